import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import fc from 'fast-check';
import { sql } from 'kysely';
import type { Database } from '../database/database.ts';
import { createTestDatabase, embeddedServerUrl } from '../testing/test-database.ts';
import { claimDue, leaseHeld, leasesHeldBy, msFromNow, type TokenWorkTable, type WorkTable } from './index.ts';

/** Like payments.operations and notifications.deliveries: a token per claim, attempts counted, finished rows kept. */
const items: TokenWorkTable = { name: 'work.items', alias: 'i', key: ['id'], token: 'token', countsAttemptOnClaim: true, pending: { column: 'status', is: 'pending' } };
/** Like messaging.retries: two key columns, no token, attempts left alone, every row pending. */
const pairs: WorkTable = { name: 'work.pairs', alias: 'p', key: ['a', 'b'] };

interface ItemRow {
  id: number;
  status: string;
  attempts: number;
  next_attempt_at: Date;
  token: string | null;
}

const now = new Date('2030-01-01T12:00:00.000Z');
const leaseUntil = new Date('2030-01-01T12:05:00.000Z');
const secondsFrom = (seconds: number) => new Date(now.getTime() + seconds * 1000);

describe('claimDue', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Database;

  before(async () => {
    database = await createTestDatabase(embeddedServerUrl(), []);
    db = database.db;
    await sql`create schema work`.execute(db);
    await sql`
      create table work.items (
        id bigint primary key, grp text not null default 'g', status text not null default 'pending',
        attempts integer not null default 0, next_attempt_at timestamptz not null, token uuid, touched boolean not null default false)`.execute(db);
    await sql`create table work.groups (name text primary key, label text not null)`.execute(db);
    await sql`
      create table work.pairs (
        a text not null, b text not null, attempts integer not null default 0,
        next_attempt_at timestamptz not null, primary key (a, b))`.execute(db);
  });

  after(async () => {
    await database.drop();
  });

  beforeEach(async () => {
    await sql`truncate work.items, work.groups, work.pairs`.execute(db);
  });

  async function insertItems(rows: readonly { id: number; dueInSeconds: number; status?: string; grp?: string }[]): Promise<void> {
    await sql`
      insert into work.items (id, next_attempt_at, status, grp)
      select * from unnest(${rows.map((row) => row.id)}::bigint[], ${rows.map((row) => secondsFrom(row.dueInSeconds))}::timestamptz[],
        ${rows.map((row) => row.status ?? 'pending')}::text[], ${rows.map((row) => row.grp ?? 'g')}::text[])`.execute(db);
  }

  const readItems = async () => (await sql<ItemRow>`select id::int as id, status, attempts, next_attempt_at, token from work.items order by id`.execute(db)).rows;
  const claimItems = (limit: number, executor: Database = db) => claimDue<ItemRow>(items, {
    limit, now, leaseUntil, tiebreak: ['id'], returning: sql`i.id::int as id, i.status, i.attempts, i.next_attempt_at, i.token`,
  }).execute(executor);

  test('when rows are due or not, pending or finished, then a claim leases exactly the earliest due pending ones up to its limit and counts an attempt', async () => {
    const row = fc.record({ dueInSeconds: fc.integer({ min: -30, max: 30 }), status: fc.constantFrom('pending', 'pending', 'done') });
    const rows = fc.uniqueArray(fc.tuple(fc.integer({ min: 1, max: 500 }), row), { selector: ([id]) => id, maxLength: 25 })
      .map((tuples) => tuples.map(([id, fields]) => ({ id, ...fields })));
    await fc.assert(fc.asyncProperty(rows, fc.integer({ min: 1, max: 10 }), async (given, limit) => {
      await sql`truncate work.items`.execute(db);
      if (given.length > 0) await insertItems(given);

      const claimed = await claimItems(limit);

      const expected = given.filter((item) => item.status === 'pending' && item.dueInSeconds <= 0)
        .sort((first, second) => first.dueInSeconds - second.dueInSeconds || first.id - second.id)
        .slice(0, limit).map((item) => item.id);
      assert.deepEqual(claimed.rows.map((item) => item.id).sort((first, second) => first - second), [...expected].sort((first, second) => first - second));
      const tokens = new Set(claimed.rows.map((item) => item.token));
      assert.equal(tokens.size, claimed.rows.length, 'each claimed row has its own token');
      for (const item of await readItems()) {
        const before = given.find((candidate) => candidate.id === item.id);
        if (expected.includes(item.id)) {
          assert.deepEqual([item.attempts, item.next_attempt_at, item.token === null], [1, leaseUntil, false]);
        } else {
          assert.deepEqual([item.status, item.attempts, item.next_attempt_at, item.token], [before?.status, 0, secondsFrom(before?.dueInSeconds ?? Number.NaN), null]);
        }
      }
    }), { numRuns: 40 });
  });

  test('when another transaction holds a due row locked, then a claim skips it at once and takes the next', async () => {
    await insertItems([{ id: 1, dueInSeconds: -20 }, { id: 2, dueInSeconds: -10 }]);
    const locked = Promise.withResolvers<undefined>();
    const unlock = Promise.withResolvers<undefined>();
    const holding = db.transaction().execute(async (transaction) => {
      await sql`select 1 from work.items where id = 1 for update`.execute(transaction);
      locked.resolve(undefined);
      await unlock.promise;
    });
    await locked.promise;
    try {
      assert.deepEqual((await claimItems(1)).rows.map((item) => item.id), [2]);
    } finally {
      unlock.resolve(undefined);
      await holding;
    }
  });

  test('when workers claim at once, then every due row is claimed by exactly one of them', async () => {
    await insertItems(Array.from({ length: 20 }, (_unused, index) => ({ id: index + 1, dueInSeconds: -index })));
    const claims = await Promise.all(Array.from({ length: 4 }, () => claimItems(5)));
    const ids = claims.flatMap((claim) => claim.rows.map((item) => item.id)).sort((first, second) => first - second);
    assert.deepEqual(ids, Array.from({ length: 20 }, (_unused, index) => index + 1));
  });

  test('when a row is leased from the database clock, then it is not due again until the lease ends', async () => {
    await sql`insert into work.items (id, next_attempt_at) values (1, now() - interval '1 second')`.execute(db);
    const lease = () => claimDue<{ id: string }>(items, { limit: 5, leaseUntil: msFromNow(60_000), returning: sql`i.id` }).execute(db);

    assert.equal((await lease()).rows.length, 1);
    assert.equal((await lease()).rows.length, 0, 'hidden while leased');
    const seconds = (await sql<{ seconds: number }>`select extract(epoch from next_attempt_at - now())::float8 as seconds from work.items`.execute(db)).rows[0]?.seconds ?? 0;
    assert.ok(seconds > 55 && seconds <= 60, `leased for about a minute, not ${String(seconds)} s`);
    await sql`update work.items set next_attempt_at = now()`.execute(db);
    assert.equal((await lease()).rows.length, 1, 'due again once the lease ended');
  });

  test('when a claim gives its token, a condition, a tiebreak and joins, then it leases the matching rows under that token and returns what they point at', async () => {
    await sql`insert into work.groups (name, label) values ('g', 'Group G'), ('h', 'Group H')`.execute(db);
    await insertItems([{ id: 1, dueInSeconds: -5, grp: 'g' }, { id: 2, dueInSeconds: -5, grp: 'h' }, { id: 3, dueInSeconds: -9, grp: 'x' }]);
    const token = randomUUID();
    const claimed = await claimDue<{ id: number; label: string; token: string; touched: boolean }>(items, {
      limit: 1, now, leaseUntil, token, tiebreak: ['id'], where: sql`i.grp <> 'x'`, carry: ['grp'],
      join: sql`join work.groups as g on g.name = due.grp`, set: sql`touched = true`,
      returning: sql`i.id::int as id, g.label, i.token, i.touched`,
    }).execute(db);
    assert.deepEqual(claimed.rows, [{ id: 1, label: 'Group G', token, touched: true }]);
  });

  test('when the table is keyed by two columns and has no token, then a claim leases the earliest due row and leaves its attempts alone', async () => {
    await sql`
      insert into work.pairs (a, b, attempts, next_attempt_at)
      values ('x', '1', 2, ${secondsFrom(-5)}), ('x', '2', 3, ${secondsFrom(-9)}), ('y', '1', 1, ${secondsFrom(-20)})`.execute(db);
    const claimed = await claimDue<{ a: string; b: string; attempts: number }>(pairs, {
      limit: 1, now, leaseUntil, where: sql`p.a = any(${['x']}::text[])`, returning: sql`p.a, p.b, p.attempts`,
    }).execute(db);
    assert.deepEqual(claimed.rows, [{ a: 'x', b: '2', attempts: 3 }]);
    const rows = await sql<{ a: string; b: string; next_attempt_at: Date }>`select a, b, next_attempt_at from work.pairs order by a, b`.execute(db);
    assert.deepEqual(rows.rows.map((row) => row.next_attempt_at), [secondsFrom(-5), leaseUntil, secondsFrom(-20)]);
  });

  describe('leaseHeld', () => {
    test('when a write names the row\'s claim, then it applies; under a stale token or on a finished row, it changes nothing', async () => {
      await insertItems([{ id: 1, dueInSeconds: -1 }, { id: 2, dueInSeconds: -1 }]);
      const token = (await claimItems(2)).rows.find((item) => item.id === 1)?.token;
      assert.ok(token != null);
      const finish = async (id: number, token: string) => (await sql`
        update work.items as i set status = 'done' where ${leaseHeld(items, [id], token)} returning i.id`.execute(db)).rows.length;

      assert.equal(await finish(1, randomUUID()), 0, 'a stale token');
      assert.equal(await finish(2, token), 0, 'another row\'s token');
      assert.equal(await finish(1, token), 1);
      assert.equal(await finish(1, token), 0, 'no longer pending');
      assert.throws(() => leaseHeld(items, [1, 2], token), /keyed by id/);
    });

    test('when a batch names its rows\' claims, then only the rows still leased to them are written', async () => {
      await insertItems([{ id: 1, dueInSeconds: -1 }, { id: 2, dueInSeconds: -1 }, { id: 3, dueInSeconds: -1 }]);
      const claimed = (await claimItems(3)).rows.sort((one, other) => one.id - other.id);
      const tokens = claimed.map((item, index) => (index === 1 ? randomUUID() : item.token ?? ''));
      const written = await sql<{ id: number }>`
        update work.items as i set status = 'done'
        from unnest(${claimed.map((item) => item.id)}::bigint[], ${tokens}::uuid[]) as c (id, token)
        where ${leasesHeldBy(items, 'c')}
        returning i.id::int as id`.execute(db);
      assert.deepEqual(written.rows.map((row) => row.id).sort(), [1, 3]);
    });
  });
});
