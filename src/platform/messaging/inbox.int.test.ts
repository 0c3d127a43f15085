import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { sql, type Transaction } from 'kysely';
import type { Database } from '../database/database.ts';
import { migrate } from '../database/migrations.ts';
import { createLogger } from '../logging/logger.ts';
import { createTestDatabase, embeddedServerUrl } from '../testing/test-database.ts';
import {
  appendToOutbox, createEnvelope, createMessaging, handleOnce, InProcessTransport, listDeadLetters, messagingMigrations,
  recordFailedDelivery, replayDeadLetter, retryDelayMs, retryLeaseMs, RetryScheduler, type Envelope, type MessageConsumer, type Messaging, type RetryPolicy,
} from './index.ts';

const logger = createLogger({ level: 'silent' });
const retryPolicy: RetryPolicy = { maxAttempts: 3, baseDelayMs: 10 };

/** Waits until `condition` holds, failing with `description` after a deadline generous enough for a loaded machine. */
async function eventually(description: string, condition: () => boolean | Promise<boolean>, deadlineMs = 20_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${description}`);
    await sleep(20);
  }
}

describe('inbox', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Database;

  before(async () => {
    database = await createTestDatabase(embeddedServerUrl(), [messagingMigrations]);
    db = database.db;
    await sql`create table public.scratch_effects (message_id uuid not null, consumer text not null)`.execute(db);
  });

  after(async () => {
    await database.drop();
  });

  function anEnvelope(type = 'orders.order-placed'): Envelope {
    return createEnvelope({ type, version: 1, key: 'order-1', payload: { total: 1250 } });
  }

  /** The consumer's effect: one row per application, which is what "no second effect" is counted by. */
  async function applyEffect(transaction: Transaction<object>, envelope: Envelope, consumer: string): Promise<void> {
    await sql`insert into public.scratch_effects (message_id, consumer) values (${envelope.id}, ${consumer})`.execute(transaction);
  }

  async function effectCount(envelope: Envelope): Promise<number> {
    const result = await sql<{ count: number }>`select count(*)::int as count from public.scratch_effects where message_id = ${envelope.id}`.execute(db);
    return result.rows[0]?.count ?? -1;
  }

  async function count(table: 'inbox' | 'retries' | 'dead_letters', envelope: Envelope): Promise<number> {
    const result = await sql<{ count: number }>`
      select count(*)::int as count from ${sql.table(`messaging.${table}`)} where message_id = ${envelope.id}`.execute(db);
    return result.rows[0]?.count ?? -1;
  }

  describe('handleOnce', () => {
    test('when the same message is handled twice, then it has one effect and the second call reports a duplicate', async () => {
      const envelope = anEnvelope();

      const first = await handleOnce(db, 'twice', envelope, (transaction) => applyEffect(transaction, envelope, 'twice'));
      const second = await handleOnce(db, 'twice', envelope, (transaction) => applyEffect(transaction, envelope, 'twice'));

      assert.equal(first, 'handled');
      assert.equal(second, 'duplicate');
      assert.equal(await effectCount(envelope), 1);
    });

    test('when two consumers handle the same message, then each has its own effect', async () => {
      const envelope = anEnvelope();

      assert.equal(await handleOnce(db, 'stock', envelope, (transaction) => applyEffect(transaction, envelope, 'stock')), 'handled');
      assert.equal(await handleOnce(db, 'mail', envelope, (transaction) => applyEffect(transaction, envelope, 'mail')), 'handled');

      assert.equal(await effectCount(envelope), 2);
    });

    test('when the same message is handled by two concurrent calls, then exactly one effect happens', async () => {
      const envelope = anEnvelope();
      let firstEntered!: () => void;
      const firstIsInside = new Promise<void>((resolve) => { firstEntered = resolve; });

      const first = handleOnce(db, 'concurrent', envelope, async (transaction) => {
        firstEntered();
        await applyEffect(transaction, envelope, 'concurrent');
        // Hold the transaction open until the second call is seen waiting on our inbox row (or give up).
        await eventually('the second delivery waits on a lock', () => someoneWaitsOnALock(db), 10_000).catch(() => undefined);
      });
      await firstIsInside;
      const second = handleOnce(db, 'concurrent', envelope, (transaction) => applyEffect(transaction, envelope, 'concurrent'));

      const outcomes = await Promise.all([first, second]);

      assert.deepEqual(outcomes, ['handled', 'duplicate']);
      assert.equal(await effectCount(envelope), 1);
      assert.equal(await count('inbox', envelope), 1);
    });

    test('when the effect throws, then no inbox row is left and a later delivery applies it', async () => {
      const envelope = anEnvelope();

      await assert.rejects(
        handleOnce(db, 'flaky', envelope, async (transaction) => {
          await applyEffect(transaction, envelope, 'flaky');
          throw new Error('downstream unavailable');
        }),
        /downstream unavailable/,
      );
      assert.equal(await count('inbox', envelope), 0);
      assert.equal(await effectCount(envelope), 0);

      const redelivery = await handleOnce(db, 'flaky', envelope, (transaction) => applyEffect(transaction, envelope, 'flaky'));

      assert.equal(redelivery, 'handled');
      assert.equal(await effectCount(envelope), 1);
      assert.equal(await count('inbox', envelope), 1);
    });
  });

  describe('createMessaging with an in-process transport', () => {
    /** A consumer that fails its first `failures` deliveries (all of them when Infinity), then applies its effect. */
    function consumerFailing(name: string, type: string, failures: number): MessageConsumer & { calls: number; failures: number } {
      return {
        name,
        types: [type],
        calls: 0,
        failures,
        async handle(envelope, transaction) {
          this.calls += 1;
          await applyEffect(transaction, envelope, name);
          if (this.calls <= this.failures) throw new Error(`failure ${this.calls} of ${name}`);
        },
      };
    }

    async function started(consumer: MessageConsumer): Promise<Messaging> {
      const messaging = createMessaging({ db, transport: new InProcessTransport(), logger, retryPolicy, pollIntervalMs: 20 });
      messaging.register(consumer);
      await messaging.start();
      return messaging;
    }

    async function publish(envelope: Envelope): Promise<void> {
      await db.transaction().execute(async (transaction) => {
        await appendToOutbox(transaction, [envelope]);
      });
    }

    test('when a consumer fails twice and then succeeds, then there is one effect and no retry or dead letter left', async () => {
      const consumer = consumerFailing('fails-twice', 'test.fails-twice', 2);
      const envelope = anEnvelope('test.fails-twice');
      const messaging = await started(consumer);
      try {
        await publish(envelope);
        await eventually('the effect is applied', async () => await effectCount(envelope) === 1);
        await eventually('no retry is left', async () => await count('retries', envelope) === 0);
      } finally {
        await messaging.stop();
      }

      assert.equal(consumer.calls, 3);
      assert.equal(await effectCount(envelope), 1);
      assert.equal(await count('inbox', envelope), 1);
      assert.equal(await count('retries', envelope), 0);
      assert.equal(await count('dead_letters', envelope), 0);
    });

    test('when a consumer always fails, then the message ends as one dead letter that a replay delivers once', async () => {
      const consumer = consumerFailing('always-fails', 'test.always-fails', Infinity);
      const envelope = anEnvelope('test.always-fails');
      const messaging = await started(consumer);
      try {
        await publish(envelope);
        await eventually('the message is dead-lettered', async () => await count('dead_letters', envelope) === 1);

        const deadLetters = (await listDeadLetters(db, { limit: 100 })).filter((letter) => letter.messageId === envelope.id);
        assert.equal(deadLetters.length, 1);
        const [deadLetter] = deadLetters;
        assert.equal(deadLetter!.consumer, 'always-fails');
        assert.equal(deadLetter!.attempts, 3);
        assert.match(deadLetter!.lastError, /failure 3 of always-fails/);
        assert.deepEqual(deadLetter!.envelope, envelope);
        assert.equal(consumer.calls, 3);
        assert.equal(await count('retries', envelope), 0);
        assert.equal(await effectCount(envelope), 0);

        consumer.failures = 0; // the bug behind the failures is fixed
        assert.equal(await replayDeadLetter(db, deadLetter!.id), true);
        await eventually('the replay is applied', async () => await effectCount(envelope) === 1);
        await eventually('no retry is left', async () => await count('retries', envelope) === 0);

        assert.equal(await replayDeadLetter(db, deadLetter!.id), false);
        assert.equal((await listDeadLetters(db, { limit: 100 })).some((letter) => letter.messageId === envelope.id), false);
      } finally {
        await messaging.stop();
      }

      assert.equal(consumer.calls, 4);
      assert.equal(await effectCount(envelope), 1);
      assert.equal(await count('inbox', envelope), 1);
    });

    /** Twenty messages of `type`, appended in one transaction, so the relay reads them in one pass. */
    async function publishTogether(type: string, payloadOf: (n: number) => unknown = (n) => ({ n })): Promise<Envelope[]> {
      const envelopes = Array.from({ length: 20 }, (_, n) => createEnvelope({ type, version: 1, key: `order-${String(n % 3)}`, payload: payloadOf(n) }));
      await db.transaction().execute((transaction) => appendToOutbox(transaction, envelopes));
      return envelopes;
    }

    test('when messages arrive together, then one transaction records them all in the inbox and applies them in publish order', async () => {
      const seen: { n: number; transactionId: string }[] = [];
      const locked: number[] = [];
      const consumer: MessageConsumer = {
        name: 'batched', types: ['test.batched'],
        async lockForBatch(envelopes) {
          locked.push(envelopes.length);
          await Promise.resolve();
        },
        async handle(envelope, transaction) {
          const { rows } = await sql<{ id: string }>`select txid_current()::text as id`.execute(transaction);
          seen.push({ n: (envelope.payload as { n: number }).n, transactionId: rows[0]!.id });
          await applyEffect(transaction, envelope, 'batched');
        },
      };
      const messaging = await started(consumer);
      const envelopes: Envelope[] = [];
      try {
        envelopes.push(...await publishTogether('test.batched'));
        await eventually('every effect is applied', () => seen.length === 20);
      } finally {
        await messaging.stop();
      }
      assert.deepEqual(seen.map((entry) => entry.n), Array.from({ length: 20 }, (_, n) => n));
      assert.equal(new Set(seen.map((entry) => entry.transactionId)).size, 1, 'one transaction for the whole batch');
      assert.deepEqual(locked, [20]);
      for (const envelope of envelopes) {
        assert.equal(await effectCount(envelope), 1);
        assert.equal(await count('inbox', envelope), 1);
      }
    });

    test('when one message of a batch fails, then the others commit once each and it alone is retried and dead-lettered', async () => {
      const poisoned = 7;
      const consumer: MessageConsumer & { calls: number } = {
        name: 'batch-with-poison', types: ['test.poisoned-batch'], calls: 0,
        async handle(envelope, transaction) {
          this.calls += 1;
          await applyEffect(transaction, envelope, 'batch-with-poison');
          await appendToOutbox(transaction, [createEnvelope({ type: 'test.followed', version: 1, key: envelope.key, payload: { after: envelope.id } })]);
          if ((envelope.payload as { poison: boolean }).poison) throw new Error('cannot digest this one');
        },
      };
      const messaging = await started(consumer);
      const envelopes: Envelope[] = [];
      try {
        envelopes.push(...await publishTogether('test.poisoned-batch', (n) => ({ n, poison: n === poisoned })));
        await eventually('the poisoned message is dead-lettered', async () => await count('dead_letters', envelopes[poisoned]!) === 1);
      } finally {
        await messaging.stop();
      }
      const bad = envelopes[poisoned]!;
      for (const envelope of envelopes.filter((candidate) => candidate !== bad)) {
        assert.equal(await effectCount(envelope), 1, 'a good message has its one effect');
        assert.equal(await count('inbox', envelope), 1);
        assert.equal(await count('retries', envelope), 0);
        assert.equal(await count('dead_letters', envelope), 0);
      }
      assert.equal(await effectCount(bad), 0);
      assert.equal(await count('inbox', bad), 0);
      const [deadLetter] = (await listDeadLetters(db, { limit: 100 })).filter((letter) => letter.messageId === bad.id);
      assert.equal(deadLetter?.attempts, retryPolicy.maxAttempts);
      assert.match(deadLetter.lastError, /cannot digest this one/);
      // What the good ones appended reached the outbox once each; the rolled-back batch left nothing.
      const followed = await sql<{ after: string }>`
        select payload->>'after' as after from messaging.outbox where type = 'test.followed'`.execute(db);
      const afters = followed.rows.map((row) => row.after).sort();
      assert.deepEqual(afters, envelopes.filter((candidate) => candidate !== bad).map((envelope) => envelope.id).sort());
      // The batch up to the poisoned one, then all twenty alone, then the poisoned one's retries.
      assert.equal(consumer.calls, (poisoned + 1) + 20 + (retryPolicy.maxAttempts - 1));
    });

    test('when a due retry names a message the consumer already handled, then it is dropped without a second effect', async () => {
      const consumer = consumerFailing('already-done', 'test.already-done', 0);
      const envelope = anEnvelope('test.already-done');
      // The effect committed, but the failure of an earlier (redelivered) copy was recorded too.
      await handleOnce(db, consumer.name, envelope, (transaction) => applyEffect(transaction, envelope, consumer.name));
      assert.equal(await recordFailedDelivery(db, consumer.name, envelope, 1, new Error('lost ack'), retryPolicy), 'retry');
      assert.equal(await count('retries', envelope), 1);

      const messaging = await started(consumer);
      try {
        await eventually('the retry is dropped', async () => await count('retries', envelope) === 0);
      } finally {
        await messaging.stop();
      }

      assert.equal(consumer.calls, 0);
      assert.equal(await effectCount(envelope), 1);
      assert.equal(await count('dead_letters', envelope), 0);
    });

    test('when a dead letter does not exist, then replaying it returns false', async () => {
      assert.equal(await replayDeadLetter(db, 987_654_321), false);
    });
  });

  describe('recordFailedDelivery', () => {
    async function retryRow(envelope: Envelope): Promise<{ attempts: number; last_error: string; next_attempt_at: Date } | undefined> {
      const result = await sql<{ attempts: number; last_error: string; next_attempt_at: Date }>`
        select attempts, last_error, next_attempt_at from messaging.retries where message_id = ${envelope.id}`.execute(db);
      return result.rows[0];
    }

    test('when a message fails its last attempt again after a replay, then its one dead letter is open again with the new failure', async () => {
      const envelope = anEnvelope();
      assert.equal(await recordFailedDelivery(db, 'reopened', envelope, 3, new Error('first outage'), retryPolicy), 'dead-letter');
      const [first] = (await listDeadLetters(db, { limit: 1000 })).filter((letter) => letter.messageId === envelope.id);
      assert.equal(await replayDeadLetter(db, first!.id), true);

      assert.equal(await recordFailedDelivery(db, 'reopened', envelope, 3, new Error('second outage'), retryPolicy), 'dead-letter');

      const open = (await listDeadLetters(db, { limit: 1000 })).filter((letter) => letter.messageId === envelope.id);
      assert.equal(await count('dead_letters', envelope), 1);
      assert.equal(open.length, 1);
      assert.equal(open[0]!.id, first!.id);
      assert.match(open[0]!.lastError, /second outage/);
      assert.equal(await count('retries', envelope), 0);
    });

    test('when two attempts of one message fail their last attempt at once, then it is dead-lettered once per consumer', async () => {
      const envelope = anEnvelope();

      const outcomes = await Promise.all([
        recordFailedDelivery(db, 'overlapping', envelope, 3, new Error('attempt a'), retryPolicy),
        recordFailedDelivery(db, 'overlapping', envelope, 3, new Error('attempt b'), retryPolicy),
        recordFailedDelivery(db, 'other-consumer', envelope, 3, new Error('attempt c'), retryPolicy),
      ]);

      assert.deepEqual(outcomes, ['dead-letter', 'dead-letter', 'dead-letter']);
      const letters = (await listDeadLetters(db, { limit: 1000 })).filter((letter) => letter.messageId === envelope.id);
      assert.deepEqual(letters.map((letter) => letter.consumer).sort(), ['other-consumer', 'overlapping']);
    });

    test('when a failure with fewer attempts is recorded after one with more, then the retry keeps the higher count and its schedule', async () => {
      const envelope = anEnvelope();
      const patient: RetryPolicy = { maxAttempts: 5, baseDelayMs: 600_000 };
      await recordFailedDelivery(db, 'monotonic', envelope, 2, new Error('second attempt'), patient);
      const before = await retryRow(envelope);

      await recordFailedDelivery(db, 'monotonic', envelope, 1, new Error('stale first delivery'), { maxAttempts: 5, baseDelayMs: 1 });
      await recordFailedDelivery(db, 'monotonic', envelope, 2, new Error('overlapping second attempt'), { maxAttempts: 5, baseDelayMs: 1 });

      const after = await retryRow(envelope);
      assert.equal(after?.attempts, 2);
      assert.match(after.last_error, /second attempt/);
      assert.doesNotMatch(after.last_error, /overlapping|stale/);
      assert.deepEqual(after.next_attempt_at, before?.next_attempt_at);

      await recordFailedDelivery(db, 'monotonic', envelope, 3, new Error('third attempt'), patient);
      assert.equal((await retryRow(envelope))?.attempts, 3);
    });
  });

  describe('RetryScheduler', () => {
    test('when it attempts a retry, then the retry stays leased far beyond a statement timeout and the next due one is not yet claimed', async () => {
      const [slow, waiting] = [anEnvelope(), anEnvelope()];
      await sql`
        insert into messaging.retries (consumer, message_id, envelope, attempts, next_attempt_at, last_error) values
          ('leased', ${slow.id}, ${JSON.stringify(slow)}::jsonb, 1, now() - interval '2 seconds', 'x'),
          ('leased', ${waiting.id}, ${JSON.stringify(waiting)}::jsonb, 1, now() - interval '1 second', 'x')`.execute(db);
      const seen: { id: string; ownLeaseSeconds: number; othersDue: boolean }[] = [];
      const scheduler = new RetryScheduler({
        db, logger, pollIntervalMs: 1000, consumers: () => ['leased'],
        attempt: async (_consumer, envelope) => {
          const other = envelope.id === slow.id ? waiting : slow;
          const result = await sql<{ own: number; others_due: boolean }>`
            select (select extract(epoch from next_attempt_at - now())::float8 from messaging.retries where message_id = ${envelope.id}) as own,
                   (select next_attempt_at <= now() from messaging.retries where message_id = ${other.id}) as others_due`.execute(db);
          seen.push({ id: envelope.id, ownLeaseSeconds: result.rows[0]!.own, othersDue: result.rows[0]!.others_due });
          await sql`delete from messaging.retries where message_id = ${envelope.id}`.execute(db);
        },
      });

      assert.equal(await scheduler.retryDue(), 2);

      assert.deepEqual(seen.map((attempt) => attempt.id), [slow.id, waiting.id]);
      assert.ok(seen[0]!.ownLeaseSeconds > 120, `lease of ${seen[0]!.ownLeaseSeconds} s`);
      assert.equal(seen[0]!.othersDue, true);
    });

    test('when messaging is given a retry lease, then a claimed retry is hidden for that lease', async () => {
      const envelope = anEnvelope();
      const leaseMs = retryLeaseMs(20 * 60_000);
      await sql`
        insert into messaging.retries (consumer, message_id, envelope, attempts, next_attempt_at, last_error)
        values ('long-lease', ${envelope.id}, ${JSON.stringify(envelope)}::jsonb, 1, now() - interval '1 second', 'x')`.execute(db);
      const messaging = createMessaging({ db, transport: new InProcessTransport(), logger, retryPolicy, pollIntervalMs: 60_000, retryLeaseMs: leaseMs });
      let leaseSeconds: number | undefined;
      messaging.register({
        name: 'long-lease', types: [envelope.type],
        handle: async (_envelope, transaction) => {
          const row = await sql<{ lease: number }>`
            select extract(epoch from next_attempt_at - statement_timestamp())::float8 as lease
            from messaging.retries where message_id = ${envelope.id}`.execute(transaction);
          leaseSeconds = row.rows[0]?.lease;
        },
      });

      assert.equal(await messaging.retries.retryDue(), 1);

      assert.equal(leaseMs, 40 * 60_000, 'two statement timeouts, beyond the default');
      assert.ok(leaseSeconds !== undefined && leaseSeconds > 39 * 60 && leaseSeconds <= 40 * 60, `lease of ${leaseSeconds} s`);
    });

    test('when an attempt throws without recording a failure, then its lease is handed back and the retry is due again', async () => {
      const envelope = anEnvelope();
      await recordFailedDelivery(db, 'overloaded', envelope, 1, new Error('x'), { maxAttempts: 3, baseDelayMs: 1 });
      await sleep(5);
      const scheduler = new RetryScheduler({
        db, logger, pollIntervalMs: 1000, consumers: () => ['overloaded'],
        attempt: () => Promise.reject(new Error('pool is full')),
      });

      await assert.rejects(scheduler.retryDue(), /pool is full/);

      const row = await sql<{ due: boolean; attempts: number }>`
        select next_attempt_at <= now() as due, attempts from messaging.retries where message_id = ${envelope.id}`.execute(db);
      assert.deepEqual(row.rows, [{ due: true, attempts: 1 }]);
    });

    test('when a due retry belongs to a consumer this process does not run, then it is left unclaimed', async () => {
      const envelope = anEnvelope();
      await recordFailedDelivery(db, 'elsewhere', envelope, 1, new Error('x'), { maxAttempts: 3, baseDelayMs: 1 });
      await sleep(5);
      const attempted: string[] = [];
      const scheduler = new RetryScheduler({
        db, logger, pollIntervalMs: 1000, consumers: () => ['here'],
        attempt: (_consumer, due) => { attempted.push(due.id); return Promise.resolve(); },
      });

      await scheduler.retryDue();

      assert.equal(attempted.includes(envelope.id), false);
      const due = await sql<{ due: boolean }>`select next_attempt_at <= now() as due from messaging.retries where message_id = ${envelope.id}`.execute(db);
      assert.equal(due.rows[0]?.due, true);
    });
  });

  describe('retryDelayMs', () => {
    test('when attempts go up, then the delay doubles and stays between half and all of the ceiling', () => {
      const policy = { maxAttempts: 10, baseDelayMs: 100 };
      for (let attempt = 1; attempt <= 10; attempt += 1) {
        const ceiling = 100 * 2 ** (attempt - 1);
        assert.equal(retryDelayMs(policy, attempt, () => 0), ceiling / 2, `attempt ${attempt} shortest`);
        assert.ok(retryDelayMs(policy, attempt, () => 0.999_999) <= ceiling, `attempt ${attempt} longest`);
        assert.ok(retryDelayMs(policy, attempt, () => 0.999_999) > ceiling * 0.99, `attempt ${attempt} longest is near the ceiling`);
        for (let sample = 0; sample < 50; sample += 1) {
          const delay = retryDelayMs(policy, attempt);
          assert.ok(delay >= ceiling / 2 && delay <= ceiling, `attempt ${attempt}: ${delay} within [${ceiling / 2}, ${ceiling}]`);
        }
      }
      assert.deepEqual([1, 2, 3, 4].map((attempt) => retryDelayMs(policy, attempt, () => 0.5)), [75, 150, 300, 600]);
    });

    test('when attempts are many, then the delay stops growing instead of overflowing', () => {
      const policy = { maxAttempts: 1000, baseDelayMs: 10 };
      const capped = retryDelayMs(policy, 21, () => 0);
      assert.equal(retryDelayMs(policy, 500, () => 0), capped);
      assert.ok(Number.isFinite(retryDelayMs(policy, 10_000, () => 0.999)));
    });
  });
});

describe('messaging migrations', () => {
  test('when dead letters repeat a (consumer, message), then the unique migration keeps only the latest of each', async () => {
    const folder = await mkdtemp(path.join(tmpdir(), 'orderstream-messaging-001-'));
    await copyFile(new URL('./migrations/001_messaging_tables.sql', import.meta.url), path.join(folder, '001_messaging_tables.sql'));
    const database = await createTestDatabase(embeddedServerUrl(), [{ ...messagingMigrations, directory: pathToFileURL(`${folder}/`) }]);
    try {
      const insert = (consumer: string, message: string, lastError: string) => sql`
        insert into messaging.dead_letters (consumer, message_id, envelope, attempts, last_error)
        values (${consumer}, ${message}, '{}'::jsonb, 3, ${lastError})`.execute(database.db);
      const [repeated, single] = ['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002'];
      await insert('stock', repeated, 'oldest');
      await insert('stock', repeated, 'latest');
      await insert('mail', repeated, 'other consumer');
      await insert('stock', single, 'alone');

      await migrate(database.db, [messagingMigrations]);

      const rows = await sql<{ consumer: string; message_id: string; last_error: string }>`
        select consumer, message_id, last_error from messaging.dead_letters order by consumer, message_id`.execute(database.db);
      assert.deepEqual(rows.rows, [
        { consumer: 'mail', message_id: repeated, last_error: 'other consumer' },
        { consumer: 'stock', message_id: repeated, last_error: 'latest' },
        { consumer: 'stock', message_id: single, last_error: 'alone' },
      ]);
      await assert.rejects(insert('stock', single, 'again'), /duplicate key/);
    } finally {
      await database.drop();
      await rm(folder, { recursive: true, force: true });
    }
  });
});

async function someoneWaitsOnALock(db: Database): Promise<boolean> {
  const result = await sql<{ waiting: number }>`
    select count(*)::int as waiting from pg_stat_activity
    where datname = current_database() and wait_event_type = 'Lock'`.execute(db);
  return (result.rows[0]?.waiting ?? 0) > 0;
}
