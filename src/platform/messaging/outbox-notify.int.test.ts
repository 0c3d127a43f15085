import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { sql } from 'kysely';
import type { Database } from '../database/database.ts';
import { createLogger } from '../logging/logger.ts';
import { createTestDatabase, embeddedServerUrl } from '../testing/test-database.ts';
import {
  appendToOutbox, createEnvelope, createMessaging, InProcessTransport, messagingMigrations,
  type Envelope, type MessageTransport, type OutboxNotify, type OutgoingMessage,
} from './index.ts';
import { outboxChannel } from './outbox.ts';
import { OutboxRelay } from './outbox-relay.ts';

const logger = createLogger({ level: 'silent' });
// Far longer than any test waits: a row published sooner was published because a commit woke the relay.
const longPollMs = 60_000;

class RecordingTransport implements MessageTransport {
  readonly published: OutgoingMessage[] = [];

  publish(messages: readonly OutgoingMessage[]): Promise<void> {
    this.published.push(...messages);
    return Promise.resolve();
  }

  has(envelope: Envelope): boolean {
    return this.published.some((message) => message.envelope.id === envelope.id);
  }

  subscribe(): void {
    throw new Error('a recording transport has no subscribers');
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** A LISTEN connection on the outbox channel that counts the notifications it hears. */
async function countNotifications(url: string): Promise<{ count: () => number; end: () => Promise<void> }> {
  const client = new pg.Client({ connectionString: url });
  let count = 0;
  client.on('notification', () => { count += 1; });
  await client.connect();
  await client.query(`listen ${outboxChannel}`);
  return { count: () => count, end: () => client.end() };
}

function anEnvelope(label: string): Envelope {
  return createEnvelope({ type: 'test.poked', version: 1, key: label, payload: { label } });
}

async function eventually(description: string, condition: () => boolean, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${description}`);
    await sleep(5);
  }
}

describe('how a commit wakes the outbox relay', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Database;

  before(async () => {
    database = await createTestDatabase(embeddedServerUrl(), [messagingMigrations]);
    db = database.db;
  });

  after(async () => {
    await database.drop();
  });

  /** A started relay on a long poll, past its first turn (which publishes whatever is waiting), asleep. */
  async function sleepingRelay(notify: OutboxNotify | undefined): Promise<{ relay: OutboxRelay; transport: RecordingTransport }> {
    const transport = new RecordingTransport();
    const relay = new OutboxRelay({
      db, transport, logger, pollIntervalMs: longPollMs, listenUrl: database.url, ...(notify === undefined ? {} : { notify }),
    });
    const warmUp = anEnvelope('warm-up');
    await db.transaction().execute((transaction) => appendToOutbox(transaction, [warmUp]));
    await relay.start();
    await eventually('the warm-up row is published', () => transport.has(warmUp), 10_000);
    await sleep(200);
    return { relay, transport };
  }

  test('when notify is in-process and an append commits, then the relay publishes it at once and no NOTIFY is sent', async () => {
    const { relay, transport } = await sleepingRelay('in-process');
    const listener = await countNotifications(database.url);
    try {
      const envelope = anEnvelope('committed');
      await db.transaction().execute((transaction) => appendToOutbox(transaction, [envelope]));
      const committedAt = performance.now();
      await eventually('the committed row is published', () => transport.has(envelope), 5_000);
      const latencyMs = performance.now() - committedAt;
      assert.ok(latencyMs < 1_000, `published ${String(Math.round(latencyMs))} ms after the commit`);
      await sleep(100); // a NOTIFY is delivered to listeners after the commit: time for one to arrive
      assert.equal(listener.count(), 0, 'no notification');
    } finally {
      await listener.end();
      await relay.stop();
    }
  });

  test('when notify is in-process and the appending transaction rolls back, then nothing wakes the relay and nothing is published', async () => {
    const { relay, transport } = await sleepingRelay('in-process');
    const before = transport.published.length;
    try {
      await assert.rejects(db.transaction().execute(async (transaction) => {
        await appendToOutbox(transaction, [anEnvelope('rolled-back')]);
        throw new Error('roll back');
      }), /roll back/);
      await sleep(300);
      assert.equal(transport.published.length, before);
      const unsent = await sql<{ count: number }>`select count(*)::int as count from messaging.outbox where sent_at is null`.execute(db);
      assert.equal(unsent.rows[0]?.count, 0);
    } finally {
      await relay.stop();
    }
  });

  test('when notify is postgres (the services shape), then an append sends NOTIFY and the listening relay publishes it at once', async () => {
    const { relay, transport } = await sleepingRelay('postgres');
    const listener = await countNotifications(database.url);
    try {
      const envelope = anEnvelope('notified');
      await db.transaction().execute((transaction) => appendToOutbox(transaction, [envelope]));
      await eventually('the notified row is published', () => transport.has(envelope), 10_000);
      await eventually('the notification is heard', () => listener.count() === 1, 5_000);
    } finally {
      await listener.end();
      await relay.stop();
    }
  });

  test('when notify is in-process and a consumer appends in its inbox transaction, then the relay publishes that at once too', async () => {
    const transport = new InProcessTransport();
    const messaging = createMessaging({ db, transport, logger, retryPolicy: { maxAttempts: 2, baseDelayMs: 10 }, pollIntervalMs: longPollMs, notify: 'in-process' });
    const received: Envelope[] = [];
    messaging.register({
      name: 'notify-test.forwarder', types: ['test.first'],
      handle: (envelope, transaction) => appendToOutbox(transaction, [createEnvelope({ type: 'test.second', version: 1, key: envelope.key, payload: {} })]),
    });
    messaging.register({ name: 'notify-test.receiver', types: ['test.second'], handle: (envelope) => { received.push(envelope); return Promise.resolve(); } });
    await messaging.start();
    const listener = await countNotifications(database.url);
    try {
      await sleep(200); // past the relay's first turn, asleep on the long poll
      await db.transaction().execute((transaction) => appendToOutbox(transaction, [createEnvelope({ type: 'test.first', version: 1, key: 'k', payload: {} })]));
      await eventually('the consumer\'s message is delivered', () => received.length === 1, 5_000);
      await sleep(100);
      assert.equal(listener.count(), 0, 'no notification');
    } finally {
      await listener.end();
      await messaging.stop();
    }
  });
});
