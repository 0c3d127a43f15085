import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { deleteInBatches } from '../../../../platform/database/retention-sweeper.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import { catalogMigrations } from '../../index.ts';
import { oldAppliedProductBatches } from './applied-batch-retention.ts';

let db: Database;
let drop: () => Promise<void>;

before(async () => {
  ({ db, drop } = await createTestDatabase(embeddedServerUrl(), [catalogMigrations]));
});
after(async () => { await drop(); });

test('when applied batches of products pass their retention, then they are deleted in batches, oldest first, and the recent ones stay', async () => {
  await sql`insert into catalog.applied_batches (key, outcomes, applied_at)
    select 'old-' || n, '[]'::jsonb, now() - make_interval(days => 31, secs => n) from generate_series(1, 25) as n`.execute(db);
  await sql`insert into catalog.applied_batches (key, outcomes, applied_at)
    select 'recent-' || n, '[]'::jsonb, now() - make_interval(days => 29) from generate_series(1, 3) as n`.execute(db);
  const deleted = await deleteInBatches(db, oldAppliedProductBatches(30 * 86_400), { batchSize: 10, pauseMs: 0, maxBatches: 100 });
  assert.equal(deleted, 25);
  const left = await sql<{ key: string }>`select key from catalog.applied_batches order by key`.execute(db);
  assert.deepEqual(left.rows.map((row) => row.key), ['recent-1', 'recent-2', 'recent-3']);
});
