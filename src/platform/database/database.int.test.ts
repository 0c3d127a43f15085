import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { createTestDatabase, embeddedServerUrl } from '../testing/test-database.ts';
import {
  createDatabase, DatabaseBusyError, databaseReadiness, isDatabaseReachable, listenInProcess, NestedConnectionError, notifyInProcessAfterCommit, openDedicatedConnection, poolStats,
  type Database,
} from './database.ts';

let database: { url: string; db: Database; drop: () => Promise<void> };

before(async () => { database = await createTestDatabase(embeddedServerUrl(), []); });
after(async () => { await database.drop(); });

/** A pool of `poolSize` on the test database, closed by `use` when the work ends. */
async function withPool<T>(options: Omit<Parameters<typeof createDatabase>[0], 'url'>, work: (db: Database) => Promise<T>): Promise<T> {
  const db = createDatabase({ url: database.url, ...options });
  try {
    return await work(db);
  } finally {
    await db.destroy();
  }
}

describe('the connection nesting guard', () => {
  test('when code inside a transaction asks the same pool for another connection, then it is refused at once with both stacks', async () => {
    await withPool({ poolSize: 4 }, async (db) => {
      const error = await db.transaction().execute(async (transaction) => {
        await sql`select 1`.execute(transaction);
        // The fixture's deliberate mistake: `db` instead of `transaction`.
        return sql`select 1`.execute(db).then(() => undefined, (caught: unknown) => caught);
      });
      assert.ok(error instanceof NestedConnectionError, `expected a NestedConnectionError, got ${String(error)}`);
      assert.match(error.message, /the connection it holds was taken at:\n.*database\.int\.test\.ts/s);
      assert.match(error.message, /the second one was asked for at:\n.*database\.int\.test\.ts/s);
    });
  });

  test('when a transaction opens another transaction on the same pool, then the inner one is refused', async () => {
    await withPool({ poolSize: 4 }, async (db) => {
      await assert.rejects(
        db.transaction().execute(async () => db.transaction().execute(async (inner) => sql`select 1`.execute(inner))),
        NestedConnectionError,
      );
    });
  });

  test('when a reserved connection asks the pool for another one, then it is refused', async () => {
    await withPool({ poolSize: 4 }, async (db) => {
      await assert.rejects(db.connection().execute(async () => sql`select 1`.execute(db)), NestedConnectionError);
    });
  });

  test('when work after a transaction, or beside it, uses the pool, then nothing is refused', async () => {
    await withPool({ poolSize: 4 }, async (db) => {
      const other = createDatabase({ url: database.url, poolSize: 1 });
      try {
        await db.transaction().execute(async (transaction) => {
          await sql`select 1`.execute(transaction);
          // Another pool (another service's database) is not this pool.
          await sql`select 1`.execute(other);
        });
        await sql`select 1`.execute(db);
        await Promise.all(Array.from({ length: 8 }, () => db.transaction().execute((transaction) => sql`select pg_sleep(0.01)`.execute(transaction))));
        assert.equal(poolStats(db)?.waiting, 0);
      } finally {
        await other.destroy();
      }
    });
  });

  test('when the guard is off, then a nested acquire is not refused (and waits like any other)', async () => {
    await withPool({ poolSize: 2, nestingGuard: false }, async (db) => {
      const rows = await db.transaction().execute(async () => sql<{ one: number }>`select 1 as one`.execute(db));
      assert.equal(rows.rows[0]?.one, 1);
    });
  });

  test('when as many sign-in-shaped units of work as the pool has connections nest, then every one fails fast instead of wedging the pool', async () => {
    await withPool({ poolSize: 4, limits: { acquireTimeoutMs: 5000 } }, async (db) => {
      const startedAt = performance.now();
      const outcomes = await Promise.allSettled(Array.from({ length: 4 }, () => db.transaction().execute(async (transaction) => {
        await sql`select pg_sleep(0.05)`.execute(transaction);
        await sql`select 1`.execute(db);
      })));
      assert.ok(outcomes.every((outcome) => outcome.status === 'rejected' && outcome.reason instanceof NestedConnectionError));
      assert.ok(performance.now() - startedAt < 2000, 'the nested acquires were refused, not waited on');
      // The pool is whole afterwards.
      assert.equal((await sql<{ one: number }>`select 1 as one`.execute(db)).rows[0]?.one, 1);
    });
  });
});

describe('bounded waits', () => {
  test('when every connection stays busy past the acquire timeout, then a caller gets DatabaseBusyError in time and the pool reports the wait', async () => {
    await withPool({ poolSize: 1, limits: { acquireTimeoutMs: 1500 } }, async (db) => {
      const holding = sql`select pg_sleep(2.5)`.execute(db);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const waitStartedAt = performance.now();
      const waiting = sql`select 1`.execute(db).then(() => undefined, (error: unknown) => error);
      await new Promise((resolve) => setTimeout(resolve, 150));
      const during = poolStats(db);
      assert.equal(during?.waiting, 1);
      assert.ok(during.oldestWaitMs >= 100, `oldest wait ${String(during.oldestWaitMs)} ms`);
      // Readiness answers at once from its own connection, and shows the saturation.
      const probedAt = performance.now();
      const readiness = await databaseReadiness(db, 1000);
      assert.ok(performance.now() - probedAt < 1000, 'the probe did not queue behind the pool');
      assert.equal(readiness.up, true);
      assert.equal(readiness.details.poolWaiting, 1);
      assert.equal(readiness.details.poolInUse, 1);
      assert.equal(readiness.details.poolMax, 1);
      const error = await waiting;
      assert.ok(error instanceof DatabaseBusyError, `expected DatabaseBusyError, got ${String(error)}`);
      // Refused at the acquire timeout, long before the busy connection came back.
      assert.ok(performance.now() - waitStartedAt < 2300, `refused after ${String(Math.round(performance.now() - waitStartedAt))} ms`);
      assert.equal(poolStats(db)?.acquireTimeouts, 1);
      // The probe has its own connection: the database is reachable though the pool is not.
      assert.equal(await isDatabaseReachable(db, 1000), true);
      await holding;
    });
  });

  test('when a statement runs past the statement timeout, then PostgreSQL cancels it', async () => {
    await withPool({ poolSize: 1, limits: { statementTimeoutMs: 200 } }, async (db) => {
      await assert.rejects(sql`select pg_sleep(2)`.execute(db), /statement timeout/);
      assert.equal((await sql<{ one: number }>`select 1 as one`.execute(db)).rows[0]?.one, 1);
    });
  });

  test('when a statement waits for a lock past the lock timeout, then PostgreSQL cancels it', async () => {
    await withPool({ poolSize: 2, limits: { lockTimeoutMs: 200 } }, async (db) => {
      await sql`create table if not exists lock_probe (id int primary key)`.execute(db);
      await db.transaction().execute(async (transaction) => {
        await sql`lock table lock_probe in access exclusive mode`.execute(transaction);
        const other = createDatabase({ url: database.url, poolSize: 1, limits: { lockTimeoutMs: 200 } });
        try {
          await assert.rejects(sql`select * from lock_probe`.execute(other), /lock timeout/);
        } finally {
          await other.destroy();
        }
      });
    });
  });

  test('when a transaction is left idle, then PostgreSQL ends it within the idle-in-transaction timeout and frees its locks', async () => {
    await withPool({ poolSize: 2, limits: { idleInTransactionTimeoutMs: 300 } }, async (db) => {
      await sql`create table if not exists stuck_probe (id int primary key)`.execute(db);
      await sql`insert into stuck_probe values (1) on conflict do nothing`.execute(db);
      const stuck = db.transaction().execute(async (transaction) => {
        await sql`update stuck_probe set id = 1 where id = 1`.execute(transaction);
        // A stuck client: it holds the row lock and sends nothing for longer than the timeout.
        await new Promise((resolve) => setTimeout(resolve, 1500));
        await sql`select 1`.execute(transaction);
      });
      const startedAt = performance.now();
      const observer = createDatabase({ url: database.url, poolSize: 1 });
      try {
        // The row lock is freed once PostgreSQL ends the idle transaction, well before the client wakes.
        await sql`update stuck_probe set id = 1 where id = 1`.execute(observer);
        assert.ok(performance.now() - startedAt < 1200, `the lock was held ${String(Math.round(performance.now() - startedAt))} ms`);
      } finally {
        await observer.destroy();
      }
      await assert.rejects(stuck);
    });
  });
});

describe('in-process notifications after commit', () => {
  test('when a transaction that notified commits, then each listener runs once, after the commit', async () => {
    await withPool({ poolSize: 2 }, async (db) => {
      await sql`create table if not exists in_process_noted (id int)`.execute(db);
      const seen: number[] = [];
      const stop = listenInProcess(db, 'test_channel', () => {
        // Another connection sees the row already: the listener runs after the commit, not before.
        void sql<{ count: number }>`select count(*)::int as count from in_process_noted`.execute(db).then((result) => { seen.push(result.rows[0]?.count ?? -1); });
      });
      try {
        const notified = await db.transaction().execute(async (transaction) => {
          await sql`insert into in_process_noted values (1)`.execute(transaction);
          const first = notifyInProcessAfterCommit('test_channel');
          notifyInProcessAfterCommit('test_channel');
          assert.deepEqual(seen, [], 'nothing runs before the commit');
          return first;
        });
        assert.equal(notified, true);
        await waitFor(() => seen.length > 0);
        assert.deepEqual(seen, [1], 'one signal per transaction and channel, after the row became visible');
      } finally {
        stop();
        await sql`drop table in_process_noted`.execute(db);
      }
    });
  });

  test('when a transaction that notified rolls back, then no listener runs', async () => {
    await withPool({ poolSize: 2 }, async (db) => {
      let calls = 0;
      const stop = listenInProcess(db, 'test_channel', () => { calls += 1; });
      try {
        await assert.rejects(db.transaction().execute(async (transaction) => {
          await sql`select 1`.execute(transaction);
          assert.equal(notifyInProcessAfterCommit('test_channel'), true);
          throw new Error('roll back');
        }), /roll back/);
        await new Promise((resolve) => setTimeout(resolve, 50));
        assert.equal(calls, 0);
      } finally {
        stop();
      }
    });
  });

  test('when nothing listens in-process on the pool, or the caller is in no transaction, then notifying says so and signals nothing', async () => {
    await withPool({ poolSize: 2 }, async (db) => {
      assert.equal(await db.transaction().execute(async (transaction) => {
        await sql`select 1`.execute(transaction);
        return notifyInProcessAfterCommit('test_channel');
      }), false, 'no listener on this pool');
      let calls = 0;
      const stop = listenInProcess(db, 'test_channel', () => { calls += 1; });
      try {
        assert.equal(notifyInProcessAfterCommit('test_channel'), false, 'outside any transaction');
        assert.equal(await database.db.transaction().execute(async (transaction) => {
          await sql`select 1`.execute(transaction);
          return notifyInProcessAfterCommit('test_channel');
        }), false, 'a transaction on another pool');
        assert.equal(calls, 0);
      } finally {
        stop();
      }
      assert.equal(await db.transaction().execute(async (transaction) => {
        await sql`select 1`.execute(transaction);
        return notifyInProcessAfterCommit('test_channel');
      }), false, 'no listener once it unsubscribed');
    });
  });
});

async function waitFor(condition: () => boolean, deadlineMs = 5000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('a dedicated connection', () => {
  test('when it is opened with settings, then its session has them from the start and the pool\'s connections keep the defaults', async () => {
    await withPool({ poolSize: 2 }, async (db) => {
      const client = await openDedicatedConnection(db, 'dedicated-settings-test', { enable_bitmapscan: 'off', enable_seqscan: 'off' });
      try {
        const own = await client.query<{ bitmap: string; seq: string; timeout: string }>(
          "select current_setting('enable_bitmapscan') as bitmap, current_setting('enable_seqscan') as seq, current_setting('statement_timeout') as timeout");
        assert.deepEqual(own.rows, [{ bitmap: 'off', seq: 'off', timeout: '30s' }], 'its own settings, and the pool\'s limits still');
        const pooled = await sql<{ bitmap: string }>`select current_setting('enable_bitmapscan') as bitmap`.execute(db);
        assert.deepEqual(pooled.rows, [{ bitmap: 'on' }]);
      } finally {
        await client.end();
      }
    });
  });
});
