import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { deleteInBatches } from '../../../../platform/database/retention-sweeper.ts';
import { messagingMigrations } from '../../../../platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import { inventoryMigrations } from '../../index.ts';
import { oldAppliedStockBatches } from './applied-batch-retention.ts';

let db: Database;
let drop: () => Promise<void>;

before(async () => {
  ({ db, drop } = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, inventoryMigrations]));
});
after(async () => { await drop(); });

test('when applied batches of stock levels pass their retention, then they are deleted in batches, oldest first, and the recent ones stay', async () => {
  await sql`insert into inventory.applied_batches (key, outcomes, applied_at)
    select 'old-' || n, '[]'::jsonb, now() - make_interval(days => 31, secs => n) from generate_series(1, 25) as n`.execute(db);
  await sql`insert into inventory.applied_batches (key, outcomes, applied_at)
    select 'recent-' || n, '[]'::jsonb, now() - make_interval(days => 29) from generate_series(1, 3) as n`.execute(db);
  const deleted = await deleteInBatches(db, oldAppliedStockBatches(30 * 86_400), { batchSize: 10, pauseMs: 0, maxBatches: 100 });
  assert.equal(deleted, 25);
  const left = await sql<{ key: string }>`select key from inventory.applied_batches order by key`.execute(db);
  assert.deepEqual(left.rows.map((row) => row.key), ['recent-1', 'recent-2', 'recent-3']);
});
