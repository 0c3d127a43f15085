import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../database/database.ts';
import { deleteBatch, deleteInBatches } from '../database/retention-sweeper.ts';
import { createMetrics } from '../observability/metrics.ts';
import { memoryLogger } from '../testing/memory-logger.ts';
import { sampleValue } from '../testing/prometheus-text.ts';
import { createTestDatabase, embeddedServerUrl } from '../testing/test-database.ts';
import { replayDeadLetter } from './dead-letters.ts';
import { createEnvelope, messagingMigrations } from './index.ts';
import { handleOnce } from './inbox.ts';
import { messagingRetentionRules, messagingRetentionSweeper, type MessagingRetention } from './retention.ts';

const hour = 3600;
const retention: MessagingRetention = {
  outboxSeconds: hour, inboxSeconds: 24 * hour, intervalMs: 60_000,
  limits: { batchSize: 1000, pauseMs: 0, maxBatches: 100 },
};

describe('messaging retention', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Database;
  const deletedRows = new Map<string, number>();
  const metrics = { rowsDeleted: (table: string, count: number) => { deletedRows.set(table, (deletedRows.get(table) ?? 0) + count); } };
  const sweeper = () => messagingRetentionSweeper(db, memoryLogger().logger, { ...retention, metrics });

  before(async () => {
    database = await createTestDatabase(embeddedServerUrl(), [messagingMigrations]);
    db = database.db;
  });

  after(async () => {
    await database.drop();
  });

  beforeEach(async () => {
    deletedRows.clear();
    await sql`truncate messaging.outbox, messaging.inbox, messaging.retries, messaging.dead_letters`.execute(db);
  });

  /** An outbox row sent `sentHoursAgo` ago (null: not sent), in position order of the calls. */
  async function outboxRow(sentHoursAgo: number | null): Promise<string> {
    const id = randomUUID();
    await sql`
      insert into messaging.outbox (id, topic, type, version, key, occurred_at, payload, sent_at)
      values (${id}, 'orderstream.orders.v1', 'orders.order-placed', 1, 'order-1', now(), '{}'::jsonb,
              ${sentHoursAgo === null ? null : sql`now() - make_interval(secs => ${sentHoursAgo * hour})`})`.execute(db);
    return id;
  }

  /** An inbox row of `consumer` written `hoursAgo` ago. */
  async function inboxRow(consumer: string, hoursAgo: number, messageId: string = randomUUID()): Promise<string> {
    await sql`
      insert into messaging.inbox (consumer, message_id, processed_at)
      values (${consumer}, ${messageId}, now() - make_interval(secs => ${hoursAgo * hour}))`.execute(db);
    return messageId;
  }

  async function outboxIds(): Promise<string[]> {
    return (await sql<{ id: string }>`select id from messaging.outbox order by position`.execute(db)).rows.map((row) => row.id);
  }

  async function inboxIds(): Promise<string[]> {
    return (await sql<{ message_id: string }>`select message_id from messaging.inbox order by message_id`.execute(db)).rows.map((row) => row.message_id);
  }

  test('when sent outbox rows are past the outbox retention, then they are deleted, and recent and unsent ones stay', async () => {
    await outboxRow(5);
    await outboxRow(2);
    const unsentOld = await outboxRow(null);
    await sql`update messaging.outbox set occurred_at = now() - interval '30 days' where id = ${unsentOld}`.execute(db);
    const recent = await outboxRow(0.5);
    const unsent = await outboxRow(null);

    const deleted = await sweeper().sweepOnce();

    assert.equal(deleted['messaging.outbox'], 2);
    assert.deepEqual(await outboxIds(), [unsentOld, recent, unsent]);
    assert.equal(deletedRows.get('messaging.outbox'), 2, 'the deleted rows are reported');
  });

  test('when inbox rows are past the inbox retention, then they are deleted, and recent ones stay', async () => {
    await inboxRow('orders.saga', 30);
    await inboxRow('payments.commands', 25);
    const recent = [await inboxRow('orders.saga', 23), await inboxRow('payments.commands', 0)].sort();

    const deleted = await sweeper().sweepOnce();

    assert.equal(deleted['messaging.inbox'], 2);
    assert.deepEqual(await inboxIds(), recent);
  });

  test('when an old inbox row has an open dead letter or a pending retry, then it is kept; once the dead letter is replayed, it may go', async () => {
    const withDeadLetter = await inboxRow('orders.saga', 48);
    const withRetry = await inboxRow('orders.saga', 48);
    const withReplayedDeadLetter = await inboxRow('orders.saga', 48);
    const envelope = (id: string) => JSON.stringify({ ...createEnvelope({ type: 'orders.order-placed', version: 1, key: 'order-1', payload: {} }), id });
    await sql`
      insert into messaging.dead_letters (consumer, message_id, envelope, attempts, last_error, replayed_at)
      values ('orders.saga', ${withDeadLetter}, ${envelope(withDeadLetter)}::jsonb, 5, 'boom', null),
             ('orders.saga', ${withReplayedDeadLetter}, ${envelope(withReplayedDeadLetter)}::jsonb, 5, 'boom', now() - interval '1 hour')`.execute(db);
    await sql`
      insert into messaging.retries (consumer, message_id, envelope, attempts, next_attempt_at, last_error)
      values ('orders.saga', ${withRetry}, ${envelope(withRetry)}::jsonb, 1, now() + interval '1 hour', 'boom')`.execute(db);

    await sweeper().sweepOnce();

    assert.deepEqual(await inboxIds(), [withDeadLetter, withRetry].sort());
  });

  test('when a message comes again after a sweep, within the inbox retention, then it is still skipped as a duplicate', async () => {
    const message = createEnvelope({ type: 'orders.order-placed', version: 1, key: 'order-1', payload: {} });
    let effects = 0;
    const effect = () => { effects += 1; return Promise.resolve(); };
    assert.equal(await handleOnce(db, 'orders.saga', message, effect), 'handled');
    await sql`update messaging.inbox set processed_at = now() - interval '23 hours'`.execute(db);

    await sweeper().sweepOnce();

    assert.equal(await handleOnce(db, 'orders.saga', message, effect), 'duplicate');
    assert.equal(effects, 1);
  });

  test('when a dead letter is replayed long after another copy of its message was handled, then the replay is still a duplicate', async () => {
    const message = createEnvelope({ type: 'orders.order-placed', version: 1, key: 'order-1', payload: {} });
    // The first copy failed every attempt; a re-published copy was handled later.
    await sql`
      insert into messaging.dead_letters (consumer, message_id, envelope, attempts, last_error)
      values ('orders.saga', ${message.id}, ${JSON.stringify(message)}::jsonb, 5, 'boom')`.execute(db);
    let effects = 0;
    const effect = () => { effects += 1; return Promise.resolve(); };
    assert.equal(await handleOnce(db, 'orders.saga', message, effect), 'handled');
    await sql`update messaging.inbox set processed_at = now() - interval '30 days'`.execute(db);

    await sweeper().sweepOnce();
    const deadLetter = (await sql<{ id: number }>`select id from messaging.dead_letters`.execute(db)).rows[0];
    assert.ok(deadLetter !== undefined);
    assert.equal(await replayDeadLetter(db, deadLetter.id), true);
    await sweeper().sweepOnce();

    assert.equal(await handleOnce(db, 'orders.saga', message, effect), 'duplicate', 'the replay finds the inbox row');
    assert.equal(effects, 1);
  });

  test('when replayed dead letters are past the inbox retention, then they are deleted, and open ones stay however old', async () => {
    const row = (replayedHoursAgo: number | null) => sql`
      (${'orders.saga'}, ${randomUUID()}, '{}'::jsonb, 5, 'boom', now() - interval '60 days',
       ${replayedHoursAgo === null ? null : sql`now() - make_interval(secs => ${replayedHoursAgo * hour})`})`;
    await sql`
      insert into messaging.dead_letters (consumer, message_id, envelope, attempts, last_error, failed_at, replayed_at)
      values ${sql.join([row(48), row(1), row(null)])}`.execute(db);

    await sweeper().sweepOnce();

    const left = await sql<{ replayed: boolean }>`select replayed_at is not null as replayed from messaging.dead_letters order by id`.execute(db);
    assert.deepEqual(left.rows.map((r) => r.replayed), [true, false]);
  });

  test('when many rows are past retention, then one batch deletes at most its size, and a sweep stops after its batch limit', async () => {
    for (let index = 0; index < 25; index += 1) await outboxRow(5);
    const [outbox] = messagingRetentionRules(retention);
    assert.ok(outbox !== undefined);

    assert.equal(await deleteBatch(db, outbox, 10), 10);
    assert.equal(await deleteInBatches(db, outbox, { batchSize: 4, pauseMs: 0, maxBatches: 2 }), 8);
    assert.equal((await outboxIds()).length, 7);
    assert.equal(await deleteInBatches(db, outbox, { batchSize: 4, pauseMs: 0, maxBatches: 100 }), 7);
    assert.equal((await outboxIds()).length, 0);
  });

  test('when the oldest outbox rows are recent, then a batch looks no further than its size and deletes nothing', async () => {
    const recent = [];
    for (let index = 0; index < 5; index += 1) recent.push(await outboxRow(0));
    // Out of position order: an old sent row behind the window of the first batch.
    await outboxRow(5);
    const [outbox] = messagingRetentionRules(retention);
    assert.ok(outbox !== undefined);

    assert.equal(await deleteBatch(db, outbox, 5), 0);
    assert.equal(await deleteBatch(db, outbox, 6), 1);
    assert.deepEqual(await outboxIds(), recent);
  });

  test('when Prometheus scrapes, then rows deleted are counted per table and each table\'s estimated rows and bytes are read', async () => {
    const prometheus = createMetrics({ processMetrics: false });
    prometheus.readFrom({ database: db, tableSizes: [{ database: 'orders', db }] });
    for (let index = 0; index < 3; index += 1) await inboxRow('orders.saga', 48);
    for (let index = 0; index < 4; index += 1) await inboxRow('orders.saga', 0);

    await messagingRetentionSweeper(db, memoryLogger().logger, { ...retention, metrics: prometheus }).sweepOnce();
    await sql`analyze messaging.inbox`.execute(db);

    const text = (await prometheus.exposition()).body;
    assert.equal(sampleValue(text, 'orderstream_retention_deleted_rows_total', { table: 'messaging.inbox' }), 3);
    assert.equal(sampleValue(text, 'orderstream_table_estimated_rows', { database: 'orders', table: 'messaging.inbox' }), 4);
    assert.ok((sampleValue(text, 'orderstream_table_bytes', { database: 'orders', table: 'messaging.inbox' }) ?? 0) > 0, 'the inbox takes some bytes');
    assert.equal(sampleValue(text, 'orderstream_table_estimated_rows', { database: 'orders', table: 'pg_catalog.pg_class' }), undefined, 'PostgreSQL\'s own tables are left out');
  });

  test('when a process has several databases, then the tables of each are reported under its own database label', async () => {
    const other = await createTestDatabase(embeddedServerUrl(), [messagingMigrations]);
    try {
      for (let index = 0; index < 4; index += 1) await inboxRow('orders.saga', 0);
      await sql`create table public.payments_only (id int)`.execute(other.db);
      await sql`insert into public.payments_only select generate_series(1, 7)`.execute(other.db);
      await sql`analyze messaging.inbox`.execute(db);
      await sql`analyze`.execute(other.db);
      const prometheus = createMetrics({ processMetrics: false });
      prometheus.readFrom({ database: db, tableSizes: [{ database: 'orders', db }, { database: 'payments', db: other.db }] });

      const text = (await prometheus.exposition()).body;

      assert.equal(sampleValue(text, 'orderstream_table_estimated_rows', { database: 'orders', table: 'messaging.inbox' }), 4);
      assert.equal(sampleValue(text, 'orderstream_table_estimated_rows', { database: 'payments', table: 'messaging.inbox' }), 0, 'the same table of the other database, apart');
      assert.equal(sampleValue(text, 'orderstream_table_estimated_rows', { database: 'payments', table: 'public.payments_only' }), 7, 'not only the first database');
      assert.equal(sampleValue(text, 'orderstream_table_estimated_rows', { database: 'orders', table: 'public.payments_only' }), undefined);
      assert.ok((sampleValue(text, 'orderstream_table_bytes', { database: 'payments', table: 'public.payments_only' }) ?? 0) > 0);
    } finally {
      await other.drop();
    }
  });

  test('when the inbox would be kept for less than the outbox, then the sweeper is refused', () => {
    assert.throws(() => messagingRetentionSweeper(db, memoryLogger().logger, { ...retention, inboxSeconds: hour - 1 }), /at least as long as the outbox/);
  });
});
