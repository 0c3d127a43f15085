import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../database/database.ts';
import { runWithContext } from '../logging/request-context.ts';
import {
  appendToOutbox, createEnvelope, createMessaging, messagingMigrations, type MessageTransport, type OutgoingMessage, type Subscription,
} from '../messaging/index.ts';
import { memoryLogger } from '../testing/memory-logger.ts';
import { sampleValue } from '../testing/prometheus-text.ts';
import { createTestDatabase, embeddedServerUrl } from '../testing/test-database.ts';
import { createMetrics } from './metrics.ts';

/** Delivers messages of type `test.duplicated` twice, as an at-least-once broker may; others once. */
class DuplicatingTransport implements MessageTransport {
  readonly #subscriptions: Subscription[] = [];
  subscribe(subscription: Subscription): void { this.#subscriptions.push(subscription); }
  async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    for (const { envelope } of messages) {
      for (const subscription of this.#subscriptions.filter((candidate) => candidate.types.includes(envelope.type))) {
        await subscription.deliver(envelope);
        if (envelope.type === 'test.duplicated') await subscription.deliver(structuredClone(envelope));
      }
    }
  }
  close(): Promise<void> { return Promise.resolve(); }
}

async function eventually(description: string, condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${description}`);
    await sleep(20);
  }
}

describe('messaging metrics and the backlog read at scrape time', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Database;
  const logs = memoryLogger('info');
  const metrics = createMetrics({ processMetrics: false, logger: logs.logger });

  before(async () => {
    database = await createTestDatabase(embeddedServerUrl(), [messagingMigrations]);
    db = database.db;
    metrics.readFrom({ database: db });
  });
  after(async () => { await database.drop(); });

  const scrape = async () => (await metrics.exposition()).body;

  test('when messages wait in the outbox, are delivered twice, or fail every attempt, then backlog, duplicates, failures and dead letters are counted', async () => {
    // Arrange: two messages committed a minute ago and not yet relayed (no relay runs yet).
    const aMinuteAgo = new Date(Date.now() - 60_000);
    const waiting = ['ord_a', 'ord_b'].map((orderId) => runWithContext({ requestId: 'req-metrics-1' }, () =>
      createEnvelope({ type: 'test.duplicated', version: 1, key: orderId, payload: { orderId }, occurredAt: aMinuteAgo })));
    await appendToOutbox(db, waiting);

    const before = await scrape();
    assert.equal(sampleValue(before, 'orderstream_outbox_unsent_messages'), 2);
    const age = sampleValue(before, 'orderstream_outbox_oldest_unsent_age_seconds') ?? 0;
    assert.ok(age >= 59 && age < 120, `oldest unsent age ${age}`);
    assert.equal(sampleValue(before, 'orderstream_db_pool_max_connections'), 5);
    assert.ok((sampleValue(before, 'orderstream_db_pool_connections') ?? 0) >= 1);

    // Act: relay them through a transport that delivers each twice, and one message to a consumer that always fails.
    const messaging = createMessaging({
      db, transport: new DuplicatingTransport(), logger: logs.logger, metrics,
      retryPolicy: { maxAttempts: 2, baseDelayMs: 10 }, pollIntervalMs: 50,
    });
    messaging.register({
      name: 'counting', types: ['test.duplicated'],
      handle: () => { logs.logger.info('handling a test message'); return Promise.resolve(); },
    });
    messaging.register({ name: 'failing', types: ['test.failing'], handle: () => Promise.reject(new Error('always')) });
    await messaging.start();
    try {
      await appendToOutbox(db, [createEnvelope({ type: 'test.failing', version: 1, key: 'k', payload: {} })]);
      await eventually('both messages are handled and the failing one is dead-lettered', async () => {
        const inbox = await sql<{ count: number }>`select count(*)::int as count from messaging.inbox where consumer = 'counting'`.execute(db);
        const dead = await sql<{ count: number }>`select count(*)::int as count from messaging.dead_letters`.execute(db);
        return inbox.rows[0]?.count === 2 && dead.rows[0]?.count === 1;
      });
    } finally {
      await messaging.stop();
    }

    // Assert
    const text = await scrape();
    assert.equal(sampleValue(text, 'orderstream_outbox_unsent_messages'), 0);
    assert.equal(sampleValue(text, 'orderstream_outbox_oldest_unsent_age_seconds'), 0);
    assert.equal(sampleValue(text, 'orderstream_messages_handled_total', { consumer: 'counting' }), 2);
    assert.equal(sampleValue(text, 'orderstream_inbox_duplicates_total', { consumer: 'counting' }), 2);
    assert.equal(sampleValue(text, 'orderstream_message_failures_total', { consumer: 'failing', next: 'retry' }), 1);
    assert.equal(sampleValue(text, 'orderstream_message_failures_total', { consumer: 'failing', next: 'dead-letter' }), 1);
    assert.equal(sampleValue(text, 'orderstream_dead_letters', { topic: 'orderstream.test.v1', consumer: 'failing' }), 1);

    // A consumer's log lines carry the message id, the order it is about and the request that caused it.
    const handled = logs.lines().filter((line) => line.msg === 'handling a test message');
    assert.equal(handled.length, 2);
    assert.deepEqual(new Set(handled.map((line) => line.orderId)), new Set(['ord_a', 'ord_b']));
    assert.ok(handled.every((line) => line.requestId === 'req-metrics-1' && typeof line.messageId === 'string'));

    // Replayed dead letters leave the gauge at 0 rather than at their last count.
    await sql`update messaging.dead_letters set replayed_at = now()`.execute(db);
    assert.equal(sampleValue(await scrape(), 'orderstream_dead_letters', { topic: 'orderstream.test.v1', consumer: 'failing' }), 0);
  });
});
