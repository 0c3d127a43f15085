import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { RetentionSweeper } from '../../../../platform/database/retention-sweeper.ts';
import { messagingMigrations } from '../../../../platform/messaging/index.ts';
import { memoryLogger } from '../../../../platform/testing/memory-logger.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import { ordersMigrations } from '../../index.ts';
import { expiredIdempotencyKeys } from './idempotency-key-retention.ts';

let db: Database;
let drop: () => Promise<void>;

before(async () => { ({ db, drop } = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, ordersMigrations])); });
after(async () => { await drop(); });

test('when Idempotency-Keys are past their expiry, then the sweeper deletes them, in batches, and keeps the live ones', async () => {
  const key = (name: string, expiresInSeconds: number) => sql`
    ('customer-1', ${name}, 'hash', 'completed', now() - interval '1 day', now() + make_interval(secs => ${expiresInSeconds}))`;
  await sql`
    insert into orders.idempotency_keys (customer_id, key, request_hash, state, claimed_at, expires_at)
    values ${sql.join([key('expired-1', -7200), key('expired-2', -60), key('expired-3', -1), key('live', 3600)])}`.execute(db);
  const sweeper = new RetentionSweeper({
    name: 'orders.retention', db, logger: memoryLogger().logger, rules: [expiredIdempotencyKeys],
    intervalMs: 60_000, limits: { batchSize: 2, pauseMs: 0, maxBatches: 1 },
  });

  assert.deepEqual(await sweeper.sweepOnce(), { 'orders.idempotency_keys': 2 }, 'one batch of two');
  assert.deepEqual(await sweeper.sweepOnce(), { 'orders.idempotency_keys': 1 });

  const left = await sql<{ key: string }>`select key from orders.idempotency_keys`.execute(db);
  assert.deepEqual(left.rows.map((row) => row.key), ['live']);
});
