import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { createDatabase, type Database } from '../database/database.ts';
import { createLogger } from '../logging/logger.ts';
import { createTestDatabase, embeddedServerUrl } from '../testing/test-database.ts';
import { createEnvelope, messagingMigrations, type Envelope, type MessageTransport, type OutgoingMessage } from './index.ts';
import { appendToOutbox } from './outbox.ts';
import { OutboxRelay } from './outbox-relay.ts';

const logger = createLogger({ level: 'silent' });

/** Keeps every message it is given, optionally taking its time (to make relays overlap). */
class RecordingTransport implements MessageTransport {
  readonly published: OutgoingMessage[] = [];
  readonly #delayMs: number;

  constructor(options: { delayMs?: number } = {}) {
    this.#delayMs = options.delayMs ?? 0;
  }

  async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    if (this.#delayMs > 0) await sleep(this.#delayMs);
    this.published.push(...messages);
  }

  get ids(): string[] {
    return this.published.map((message) => message.envelope.id);
  }

  subscribe(): void {
    throw new Error('a recording transport has no subscribers');
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** A broker that is down: every publish fails. */
class FailingTransport implements MessageTransport {
  attempts = 0;

  publish(): Promise<void> {
    this.attempts += 1;
    return Promise.reject(new Error('broker unavailable'));
  }

  subscribe(): void {
    throw new Error('not used');
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

function envelopes(count: number, label: string): Envelope[] {
  return Array.from({ length: count }, (_, index) =>
    createEnvelope({ type: 'orders.order-placed', version: 1, key: `order-${label}-${index % 7}`, payload: { label, index } }));
}

/** Appends `count` messages in transactions of `perTransaction`, returning them in outbox order. */
async function appendInTransactions(db: Database, count: number, perTransaction: number, label: string): Promise<Envelope[]> {
  const all = envelopes(count, label);
  for (let start = 0; start < all.length; start += perTransaction) {
    await db.transaction().execute(async (transaction) => {
      await appendToOutbox(transaction, all.slice(start, start + perTransaction));
    });
  }
  return all;
}

async function unsentCount(db: Database): Promise<number> {
  const result = await sql<{ count: number }>`select count(*)::int as count from messaging.outbox where sent_at is null`.execute(db);
  return result.rows[0]?.count ?? -1;
}

/** Waits until `condition` holds, failing with `description` after a deadline generous enough for a loaded machine. */
async function eventually(description: string, condition: () => boolean | Promise<boolean>, deadlineMs = 20_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${description}`);
    await sleep(20);
  }
}

function assertEachOnce(published: readonly string[], expected: readonly string[]): void {
  const counts = new Map<string, number>();
  for (const id of published) counts.set(id, (counts.get(id) ?? 0) + 1);
  const duplicated = [...counts].filter(([, count]) => count > 1).map(([id]) => id);
  assert.deepEqual(duplicated, [], 'no message is published twice');
  assert.deepEqual(new Set(published), new Set(expected), 'every message is published');
  assert.equal(published.length, expected.length);
}

describe('OutboxRelay', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Database;

  before(async () => {
    database = await createTestDatabase(embeddedServerUrl(), [messagingMigrations]);
    db = database.db;
  });

  after(async () => {
    await database.drop();
  });

  // A relay that leads keeps its lead (and its connection) until it fails or stops.
  const running: OutboxRelay[] = [];
  function track(relay: OutboxRelay): OutboxRelay {
    running.push(relay);
    return relay;
  }
  afterEach(async () => {
    await Promise.all(running.splice(0).map((relay) => relay.stop()));
  });

  beforeEach(async () => {
    // Each test starts from an empty outbox, so what a relay publishes is only that test's rows.
    await sql`update messaging.outbox set sent_at = now() where sent_at is null`.execute(db);
  });

  test('when rows were appended in several transactions, then relayOnce publishes each exactly once and in outbox order', async () => {
    const appended = await appendInTransactions(db, 250, 40, 'order');
    const transport = new RecordingTransport();
    const relay = track(new OutboxRelay({ db, transport, logger, pollIntervalMs: 60_000 }));

    const batches: number[] = [];
    for (let published = await relay.relayOnce(); published > 0; published = await relay.relayOnce()) {
      batches.push(published);
      assert.ok(batches.length <= 10, 'relayOnce keeps returning work');
    }

    assert.deepEqual(batches, [100, 100, 50]);
    assert.deepEqual(transport.ids, appended.map((envelope) => envelope.id));
    assert.equal(await unsentCount(db), 0);
    const first = transport.published[0]!;
    assert.equal(first.topic, 'orderstream.orders.v1');
    assert.deepEqual(first.envelope, appended[0]);
  });

  test('when a relay has nothing left to send, then it keeps its lead, and a second relay stands by until the first stops', async () => {
    const first = await appendInTransactions(db, 30, 10, 'lead');
    const transports = [new RecordingTransport(), new RecordingTransport()];
    const otherProcess = createDatabase({ url: database.url, poolSize: 2 });
    const leader = track(new OutboxRelay({ db, transport: transports[0]!, logger, pollIntervalMs: 60_000, batchSize: 10 }));
    const standby = new OutboxRelay({ db: otherProcess, transport: transports[1]!, logger, pollIntervalMs: 60_000, batchSize: 10 });
    try {
      while (await leader.relayOnce() > 0) { /* drains the outbox */ }
      assert.equal(await relayLockHolders(db), 1, 'the idle leader still holds the lock');
      const later = await appendInTransactions(db, 5, 5, 'lead-later');
      assert.equal(await standby.relayOnce(), 0, 'the standby does not lead while the leader runs');
      await leader.stop();
      assert.equal(await standby.relayOnce(), 5, 'once the leader stopped, the standby leads');
      assert.deepEqual(transports[0]!.ids, first.map((envelope) => envelope.id));
      assert.deepEqual(transports[1]!.ids, later.map((envelope) => envelope.id));
      assert.equal(await unsentCount(db), 0);
    } finally {
      await standby.stop();
      await otherProcess.destroy();
    }
  });

  test('when the transport throws, then every row stays unsent and the next relayOnce publishes it', async () => {
    const appended = await appendInTransactions(db, 30, 10, 'outage');
    const failing = new FailingTransport();
    const down = track(new OutboxRelay({ db, transport: failing, logger, pollIntervalMs: 60_000 }));

    await assert.rejects(down.relayOnce(), /broker unavailable/);
    assert.equal(failing.attempts, 1);
    assert.equal(await unsentCount(db), 30);

    const transport = new RecordingTransport();
    const recovered = track(new OutboxRelay({ db, transport, logger, pollIntervalMs: 60_000 }));
    assert.equal(await recovered.relayOnce(), 30);
    assert.deepEqual(transport.ids, appended.map((envelope) => envelope.id));
    assert.equal(await unsentCount(db), 0);
  });

  test('when a transaction commits its rows after later positions were already relayed, then its rows are still published', async () => {
    const transport = new RecordingTransport();
    const relay = track(new OutboxRelay({ db, transport, logger, pollIntervalMs: 60_000 }));
    const [slow] = envelopes(1, 'slow-writer');
    let commitSlowWriter!: () => void;
    let slowWriterAppended!: () => void;
    const slowWriterMayCommit = new Promise<void>((resolve) => { commitSlowWriter = resolve; });
    const slowWriterHasAppended = new Promise<void>((resolve) => { slowWriterAppended = resolve; });
    const slowWriter = db.transaction().execute(async (transaction) => {
      await appendToOutbox(transaction, [slow!]);
      slowWriterAppended();
      await slowWriterMayCommit;
    });
    await slowWriterHasAppended;

    const [fast] = await appendInTransactions(db, 1, 1, 'fast-writer');
    assert.equal(await relay.relayOnce(), 1);
    commitSlowWriter();
    await slowWriter;
    assert.equal(await relay.relayOnce(), 1);

    assert.deepEqual(transport.ids, [fast!.id, slow!.id]);
    assert.equal(await unsentCount(db), 0);
  });

  test('when a relay is stopped and a new one started, then rows from before, during and after the restart all arrive exactly once', async () => {
    const transport = new RecordingTransport();
    const expected: Envelope[] = [];

    const first = track(new OutboxRelay({ db, transport, logger, pollIntervalMs: 10, batchSize: 25 }));
    await first.start();
    try {
      expected.push(...await appendInTransactions(db, 60, 15, 'before-stop'));
      await eventually('the first relay has published something', () => transport.published.length > 0);
      expected.push(...await appendInTransactions(db, 60, 15, 'racing-stop'));
    } finally {
      await first.stop();
    }
    const publishedByFirst = transport.published.length;
    expected.push(...await appendInTransactions(db, 60, 15, 'while-stopped'));
    await sleep(50);
    assert.equal(transport.published.length, publishedByFirst, 'a stopped relay publishes nothing');

    const second = track(new OutboxRelay({ db, transport, logger, pollIntervalMs: 10, batchSize: 25 }));
    await second.start();
    try {
      expected.push(...await appendInTransactions(db, 30, 15, 'after-restart'));
      await eventually('every row is sent', async () => await unsentCount(db) === 0 && transport.published.length >= expected.length);
    } finally {
      await second.stop();
    }

    assertEachOnce(transport.ids, expected.map((envelope) => envelope.id));
    // Appended one transaction after another, so outbox order is append order.
    assert.deepEqual(transport.ids, expected.map((envelope) => envelope.id));
  });

  test('when the poll interval is long and listenUrl is set, then a commit wakes the relay at once', async () => {
    const transport = new RecordingTransport();
    const relay = track(new OutboxRelay({ db, transport, logger, pollIntervalMs: 60_000, listenUrl: database.url }));
    // Committed before the relay listens: its first turn finds it, which shows the loop is running.
    const [warmUp] = await appendInTransactions(db, 1, 1, 'warm-up');
    await relay.start();
    try {
      await eventually('the warm-up row is published', () => transport.ids.includes(warmUp!.id));
      // Let the loop finish its turn and settle into its 60 s sleep, so only a notification can wake it.
      await sleep(300);

      const [woken] = await appendInTransactions(db, 1, 1, 'notified');
      await eventually('the notified row is published', () => transport.ids.includes(woken!.id), 10_000);
    } finally {
      await relay.stop();
    }
    assert.equal(transport.published.length, 2);
  });

  test('when the listening connection is lost, then the relay listens again and a commit still wakes it', async () => {
    const transport = new RecordingTransport();
    const relay = track(new OutboxRelay({ db, transport, logger, pollIntervalMs: 60_000, listenUrl: database.url }));
    const [warmUp] = await appendInTransactions(db, 1, 1, 'before-loss');
    await relay.start();
    try {
      await eventually('the warm-up row is published', () => transport.ids.includes(warmUp!.id));
      const [lost] = await listenerPids(db);
      assert.ok(lost !== undefined, 'the relay listens');
      await sql`select pg_terminate_backend(${lost})`.execute(db);
      await eventually('a new listener replaces the lost one', async () => {
        const pids = await listenerPids(db);
        return pids.length > 0 && !pids.includes(lost);
      });
      await sleep(300);

      const [woken] = await appendInTransactions(db, 1, 1, 'after-loss');
      await eventually('the notified row is published', () => transport.ids.includes(woken!.id), 10_000);
    } finally {
      await relay.stop();
    }
    assert.equal(transport.published.length, 2);
  });

  test('when a relay whose listener reconnected stops, then it leaves no listening connection open', async () => {
    const relay = track(new OutboxRelay({ db, transport: new RecordingTransport(), logger, pollIntervalMs: 100, listenUrl: database.url }));
    await relay.start();
    try {
      await eventually('the relay listens', async () => (await listenerPids(db)).length === 1);
      const [lost] = await listenerPids(db);
      await sql`select pg_terminate_backend(${lost!})`.execute(db);
      await eventually('a new listener replaces the lost one', async () => {
        const pids = await listenerPids(db);
        return pids.length > 0 && !pids.includes(lost!);
      });
      await sleep(500); // time for a second, duplicate reconnection to show up if there is one
      assert.equal((await listenerPids(db)).length, 1, 'one listening connection');
    } finally {
      await relay.stop();
    }
    await eventually('no listening connection is left', async () => (await listenerPids(db)).length === 0, 10_000);
  });

  test('when passes may be in flight at once, then a publish that hangs does not hold up later rows, and each row is published and marked sent once', async () => {
    const published: string[] = [];
    let releaseFirst!: () => void;
    const firstMayFinish = new Promise<void>((resolve) => { releaseFirst = resolve; });
    let publishes = 0;
    const transport: MessageTransport = {
      async publish(messages) {
        publishes += 1;
        if (publishes === 1) await firstMayFinish;
        published.push(...messages.map((message) => message.envelope.id));
      },
      subscribe() { /* nothing subscribes */ },
      close: () => Promise.resolve(),
    };
    const relay = track(new OutboxRelay({ db, transport, logger, pollIntervalMs: 10, batchSize: 10, publishesInFlight: 3 }));
    const stuck = await appendInTransactions(db, 10, 10, 'stuck');
    await relay.start();
    try {
      await eventually('the first pass is in flight', () => publishes === 1);
      const later = await appendInTransactions(db, 20, 5, 'later');
      await eventually('the later rows are published past the hung pass', () => later.every((envelope) => published.includes(envelope.id)));
      assert.ok(stuck.every((envelope) => !published.includes(envelope.id)));
      // A pass is marked sent a moment after its publish resolved.
      await eventually('only the hung pass is unsent', async () => await unsentCount(db) === 10);
      releaseFirst();
      await eventually('every row is sent', async () => await unsentCount(db) === 0);
      assertEachOnce(published, [...stuck, ...later].map((envelope) => envelope.id));
    } finally {
      releaseFirst();
      await relay.stop();
    }
  });

  test('when passes are in flight at once, then each pass is marked sent by the next read, one statement a pass', async () => {
    const appended = await appendInTransactions(db, 100, 100, 'marked-by-the-next-read');
    const transport = new RecordingTransport({ delayMs: 5 });
    const statements: string[] = [];
    const prototype = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
    const original = prototype.query;
    prototype.query = function countedQuery(this: pg.Client, ...args: unknown[]): unknown {
      const application = (this as unknown as { connectionParameters: { application_name?: string } }).connectionParameters.application_name;
      if (application === 'orderstream-outbox-relay') statements.push(typeof args[0] === 'string' ? args[0] : (args[0] as { text: string }).text);
      return original.apply(this, args);
    };
    const relay = track(new OutboxRelay({ db, transport, logger, pollIntervalMs: 60_000, batchSize: 10, publishesInFlight: 3 }));
    try {
      await relay.start();
      await eventually('every row is sent', async () => await unsentCount(db) === 0);
    } finally {
      prototype.query = original;
      await relay.stop();
    }
    assertEachOnce(transport.ids, appended.map((envelope) => envelope.id));
    const reads = statements.filter((text) => text.includes('select position')).length;
    const marksAlone = statements.filter((text) => text.startsWith('update messaging.outbox')).length;
    // Ten passes: each read after the first marks what was published before it, none is marked
    // alone. At the tail, a read after the last pass finds nothing, and so may one woken by each
    // of the last three passes' completions (against twenty statements, marking each pass alone).
    assert.equal(marksAlone, 0, 'no pass marked by a statement of its own');
    assert.ok(reads <= 14, `${String(reads)} reads for 10 passes`);
  });

  test('when two relays run relayOnce concurrently, then no row is published twice', async () => {
    const appended = await appendInTransactions(db, 200, 50, 'contended');
    // A second pool stands for a second process.
    const otherProcess = createDatabase({ url: database.url, poolSize: 2 });
    const transports = [new RecordingTransport({ delayMs: 30 }), new RecordingTransport({ delayMs: 30 })];
    const relays = [
      track(new OutboxRelay({ db, transport: transports[0]!, logger, pollIntervalMs: 60_000, batchSize: 10 })),
      track(new OutboxRelay({ db: otherProcess, transport: transports[1]!, logger, pollIntervalMs: 60_000, batchSize: 10 })),
    ];
    const deadline = Date.now() + 60_000;
    try {
      await Promise.all(relays.map(async (relay) => {
        while (await unsentCount(db) > 0) {
          assert.ok(Date.now() < deadline, 'the relays drain the outbox');
          if (await relay.relayOnce() === 0) await sleep(5);
        }
      }));
    } finally {
      await Promise.all(relays.map((relay) => relay.stop()));
      await otherProcess.destroy();
    }

    const published = transports.flatMap((transport) => transport.ids);
    assertEachOnce(published, appended.map((envelope) => envelope.id));
    // Only one relay publishes at a time, so together they still follow outbox order.
    const order = new Map(appended.map((envelope, index) => [envelope.id, index]));
    const batchesInPublishOrder = transports
      .flatMap((transport) => chunk(transport.published, 10))
      .sort((a, b) => order.get(a[0]!.envelope.id)! - order.get(b[0]!.envelope.id)!);
    assert.deepEqual(batchesInPublishOrder.flat().map((message) => message.envelope.id), appended.map((envelope) => envelope.id));
  });
});

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}

/** Sessions holding the relay's leader lock on this test's database. */
async function relayLockHolders(db: Database): Promise<number> {
  const result = await sql<{ holders: number }>`
    select count(*)::int as holders from pg_locks
    where locktype = 'advisory' and granted and database = (select oid from pg_database where datname = current_database())
      and ((classid::bigint << 32) | objid::bigint) = 727100002`.execute(db);
  return result.rows[0]?.holders ?? 0;
}

/** Server process ids of the relay listeners connected to this test's database. */
async function listenerPids(db: Database): Promise<number[]> {
  const result = await sql<{ pid: number }>`
    select pid from pg_stat_activity
    where datname = current_database() and application_name = 'orderstream-outbox-listener'`.execute(db);
  return result.rows.map((row) => row.pid);
}
