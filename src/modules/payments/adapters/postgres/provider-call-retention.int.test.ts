import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { RetentionSweeper } from '../../../../platform/database/retention-sweeper.ts';
import { messagingMigrations } from '../../../../platform/messaging/index.ts';
import { memoryLogger } from '../../../../platform/testing/memory-logger.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import { paymentsMigrations } from '../../index.ts';
import { oldProviderCalls } from './provider-call-retention.ts';

let db: Database;
let drop: () => Promise<void>;

before(async () => { ({ db, drop } = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, paymentsMigrations])); });
after(async () => { await drop(); });

/** An operation in `status` with one provider call made `daysAgo` days ago. */
async function callOf(orderId: string, status: 'pending' | 'done' | 'failed', daysAgo: number): Promise<void> {
  const operation = await sql<{ id: number }>`
    insert into payments.operations (order_id, kind, status) values (${orderId}, 'authorize', ${status}) returning id`.execute(db);
  await sql`
    insert into payments.provider_calls (operation_id, order_id, operation, idempotency_key, attempt, outcome, duration_ms, called_at)
    values (${operation.rows[0]?.id}, ${orderId}, 'authorize', ${`${orderId}:authorize`}, 1, 'authorized', 12, now() - make_interval(days => ${daysAgo}))`.execute(db);
}

test('when provider calls of done operations are past retention, then they are deleted; recent ones and those of unfinished operations stay', async () => {
  await callOf('order-old-done', 'done', 20);
  await callOf('order-old-failed', 'failed', 20);
  await callOf('order-old-pending', 'pending', 20);
  await callOf('order-recent-done', 'done', 1);
  const sweeper = new RetentionSweeper({
    name: 'payments.retention', db, logger: memoryLogger().logger, rules: [oldProviderCalls(14 * 86_400)],
    intervalMs: 60_000, limits: { batchSize: 100, pauseMs: 0, maxBatches: 10 },
  });

  assert.deepEqual(await sweeper.sweepOnce(), { 'payments.provider_calls': 1 });

  const left = await sql<{ order_id: string }>`select order_id from payments.provider_calls order by id`.execute(db);
  assert.deepEqual(left.rows.map((row) => row.order_id), ['order-old-failed', 'order-old-pending', 'order-recent-done']);
});
