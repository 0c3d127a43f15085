import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { RetentionSweeper } from '../../../../platform/database/retention-sweeper.ts';
import { messagingMigrations } from '../../../../platform/messaging/index.ts';
import { memoryLogger } from '../../../../platform/testing/memory-logger.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import { paymentsMigrations } from '../../index.ts';
import { PgWebhookEventTransactions } from './pg-webhook-event-store.ts';
import { oldWebhookEvents } from './webhook-event-retention.ts';

let db: Database;
let drop: () => Promise<void>;

before(async () => { ({ db, drop } = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, paymentsMigrations])); });
after(async () => { await drop(); });

/** A webhook event received `daysAgo` days ago. */
async function eventOf(eventId: string, daysAgo: number): Promise<void> {
  await sql`
    insert into payments.webhook_events (provider, event_id, type, payload, received_at)
    values ('stripe', ${eventId}, 'payment_intent.succeeded', '{}'::jsonb, now() - make_interval(secs => ${daysAgo * 86_400}))`.execute(db);
}

test('when webhook events are past retention, then they are deleted in batches, counted per table, and recent ones stay', async () => {
  await eventOf('evt_old_1', 40);
  await eventOf('evt_old_2', 31);
  await eventOf('evt_old_3', 30.5);
  await eventOf('evt_recent', 29);
  await eventOf('evt_today', 0);
  const counted: [string, number][] = [];
  const sweeper = new RetentionSweeper({
    name: 'payments.retention', db, logger: memoryLogger().logger, rules: [oldWebhookEvents(30 * 86_400)],
    intervalMs: 60_000, limits: { batchSize: 2, pauseMs: 0, maxBatches: 10 },
    metrics: { rowsDeleted: (table, count) => { counted.push([table, count]); } },
  });

  assert.deepEqual(await sweeper.sweepOnce(), { 'payments.webhook_events': 3 });
  assert.deepEqual(counted, [['payments.webhook_events', 2], ['payments.webhook_events', 1]]);

  const left = await sql<{ event_id: string }>`select event_id from payments.webhook_events order by event_id`.execute(db);
  assert.deepEqual(left.rows.map((row) => row.event_id), ['evt_recent', 'evt_today']);
});

test('when a kept event is delivered again, then it is a duplicate; when its row was swept, then it is recorded afresh', async () => {
  await eventOf('evt_redelivered_kept', 3);
  await eventOf('evt_redelivered_swept', 60);
  const sweeper = new RetentionSweeper({
    name: 'payments.retention', db, logger: memoryLogger().logger, rules: [oldWebhookEvents(4 * 86_400)],
    intervalMs: 60_000, limits: { batchSize: 100, pauseMs: 0, maxBatches: 10 },
  });
  await sweeper.sweepOnce();
  const transactions = new PgWebhookEventTransactions(db);
  const record = (eventId: string) => transactions.run((events) => events.record({ provider: 'stripe', eventId, type: 'payment_intent.succeeded', payload: {} }));

  assert.equal(await record('evt_redelivered_kept'), false, 'within the retention the event is recognised');
  assert.equal(await record('evt_redelivered_swept'), true, 'past it the event is new again');
});
