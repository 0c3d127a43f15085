import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { createTestDatabase, embeddedServerUrl } from '../src/platform/testing/test-database.ts';
import { measurePrimitiveCeiling, planReplay, ReplayInstance } from './database-ceiling.ts';
import { StatementCounter, type CapturedStatement, type CapturedUnit } from './statement-capture.ts';

const orderId = 'ord_11111111-1111-4111-8111-111111111111';
const messageId = '22222222-2222-4222-8222-222222222222';
const leaseToken = '44444444-4444-4444-8444-444444444444';
const capturedAt = Date.parse('2026-01-01T00:00:00Z');
const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

function statement(text: string, values: unknown[] = [], rows: Record<string, unknown>[] = [], command: string | null = 'SELECT'): CapturedStatement {
  return { text, values, rows, rowCount: rows.length, command };
}

function unit(sequence: number, statements: CapturedStatement[]): CapturedUnit {
  return { connection: 0, sequence, transaction: true, outcome: 'commit', statements: [statement('begin', [], [], 'BEGIN'), ...statements, statement('commit', [], [], 'COMMIT')] };
}

test('when a plan is replayed, then every UUID, in texts and JSON alike, becomes a fresh one, the same within a replay and different across replays', () => {
  const plan = planReplay([unit(0, [
    statement('insert into orders.orders (id, lines) values ($1, $2)', [orderId, JSON.stringify({ orderId, sku: 'BENCH-00007' })], [], 'INSERT'),
    statement('insert into messaging.outbox (id, key) values ($1, $2)', [messageId, orderId], [], 'INSERT'),
  ])], capturedAt);
  const [first, second] = [new ReplayInstance(plan, ['BENCH-00001', 'BENCH-00002']), new ReplayInstance(plan, ['BENCH-00001', 'BENCH-00002'])];
  const [, insertOrder, insertMessage] = plan.units[0] ?? [];
  assert.ok(insertOrder !== undefined && insertMessage !== undefined);

  const order = first.build(insertOrder);
  const message = first.build(insertMessage);
  const again = second.build(insertOrder);

  const [newOrderId, lines] = order.values as [string, string];
  assert.notEqual(newOrderId, orderId);
  assert.match(newOrderId, /^ord_/);
  assert.equal(message.values[1], newOrderId, 'the same old id gives the same new id within a replay');
  assert.equal((JSON.parse(lines) as { orderId: string }).orderId, newOrderId, 'ids inside JSON are rewritten too');
  assert.match((JSON.parse(lines) as { sku: string }).sku, /^BENCH-0000[12]$/, 'SKUs are drawn from the catalogue');
  assert.notEqual(again.values[0], newOrderId, 'another replay gets other ids');
  assert.equal(String(message.values[0]).match(uuid)?.length, 1);
});

test('when a value first came from an answer, then a replay takes it from its own answer; a value the application sent first stays its own', () => {
  const plan = planReplay([
    unit(0, [statement('insert into messaging.outbox (id) values ($1)', [messageId], [], 'INSERT')]),
    unit(1, [
      // The relay reads the message back: its id was sent by the application first, so it is not taken from this answer.
      statement('select position, id from messaging.outbox where sent_at is null', [], [{ position: 41, id: messageId }]),
      statement('update messaging.outbox set sent_at = now() where position = any($1::bigint[])', [[41]], [], 'UPDATE'),
    ]),
    unit(2, [
      statement('update payments.operations set claim_token = gen_random_uuid() returning id, claim_token', [], [{ id: 7, claim_token: leaseToken }], 'UPDATE'),
      statement('insert into messaging.inbox (message_id) values ($1)', [messageId], [], 'INSERT'),
      statement('update payments.operations set status = $1 where id = $2 and claim_token = $3', ['done', 7, leaseToken], [], 'UPDATE'),
    ]),
  ], capturedAt);
  const replay = new ReplayInstance(plan, ['BENCH-00001']);
  const statementOf = (unitIndex: number, statementIndex: number) => {
    const found = plan.units[unitIndex]?.[statementIndex];
    assert.ok(found !== undefined);
    return found;
  };

  const sentId = replay.build(statementOf(0, 1)).values[0];
  replay.answer(1, 1, [{ position: 90, id: sentId }, { position: 91, id: 'another' }]);
  const marked = replay.build(statementOf(1, 2)).values[0];
  replay.answer(2, 1, [{ id: 12, claim_token: 'replayed-token' }]);
  const inboxId = replay.build(statementOf(2, 2)).values[0];
  const settled = replay.build(statementOf(2, 3)).values;

  assert.deepEqual(marked, [90, 91], 'every position the replay read, as the capture sent every position it read');
  assert.equal(inboxId, sentId, 'the message id stays the one the application sent');
  assert.deepEqual(settled, ['done', 12, 'replayed-token'], 'the identity and lease token come from the replay\'s own answer');
});

test('when a unit took an advisory lock with pg_try_advisory_xact_lock, then the plan marks it, and timestamps move to the replay\'s time', () => {
  const plan = planReplay([unit(0, [
    statement('select pg_try_advisory_xact_lock($1) as locked', [727_100_002], [{ locked: true }]),
    statement('insert into orders.orders (created_at) values ($1)', [new Date(capturedAt + 1000)], [], 'INSERT'),
  ])], capturedAt);
  const [, lock, insert] = plan.units[0] ?? [];
  assert.ok(lock !== undefined && insert !== undefined);

  const replayedAt = capturedAt + 60_000;
  const built = new ReplayInstance(plan, [], replayedAt).build(insert);

  assert.equal(lock.tryLock, true);
  assert.equal(insert.tryLock, false);
  assert.equal(plan.statements, 2, 'BEGIN and COMMIT are not counted');
  assert.deepEqual(built.values, [new Date(replayedAt + 1000)]);
});

test('when the commit and statement ceilings are measured, then every operation counted is one the database confirms, and the scratch schema is gone afterwards', { timeout: 30_000 }, async (context) => {
  const database = await createTestDatabase(embeddedServerUrl(), []);
  context.after(() => database.drop());
  let measuring = 0;

  const commits = await measurePrimitiveCeiling({
    databaseUrl: database.url, operation: 'commit', connections: 2, durationSeconds: 0.3, warmUpSeconds: 0.1, onMeasuring: () => { measuring += 1; },
  });
  const statements = await measurePrimitiveCeiling({ databaseUrl: database.url, operation: 'statement', connections: 2, durationSeconds: 0.3, warmUpSeconds: 0 });

  for (const result of [commits, statements]) {
    assert.equal(result.failed, 0, result.firstError ?? '');
    assert.ok(result.operations > 0 && result.perSecond > 0, `${result.operation}: ${result.operations} operations`);
    assert.equal(result.confirmed, result.operations, `${result.operation}: the database confirms what was counted`);
    assert.ok(result.latencyMs.p50 > 0 && result.latencyMs.p50 <= result.latencyMs.p99);
  }
  assert.equal(measuring, 1);
  assert.match(commits.statement, /^insert into bench_ceiling\.commits/);
  assert.match(statements.statement, /^select .* from bench_ceiling\.rows where id = \$1$/);
  assert.equal(commits.durability.synchronousCommit, 'on', 'the server\'s default, which the application does not change');
  const left = await sql<{ schemas: number }>`select count(*)::int as schemas from pg_namespace where nspname like 'bench_ceiling%'`.execute(database.db);
  assert.deepEqual(left.rows, [{ schemas: 0 }]);
});

test('when statements are counted, then BEGIN and COMMIT count only as round trips and the observer\'s connections are left out', { timeout: 30_000 }, async (context) => {
  const database = await createTestDatabase(embeddedServerUrl(), []);
  context.after(() => database.drop());
  const counted = new pg.Client({ connectionString: database.url, application_name: 'counted' });
  const ignored = new pg.Client({ connectionString: database.url, application_name: 'observer' });
  await Promise.all([counted.connect(), ignored.connect()]);
  const counter = new StatementCounter({ ignoredApplication: 'observer' });

  try {
    counter.start();
    try {
      await counted.query('begin');
      await counted.query('select $1::int as one', [1]);
      await counted.query({ text: 'select 2 as two' });
      await counted.query('commit');
      await counted.query('begin; select 3; commit;');
      await ignored.query('select 4');
    } finally {
      counter.stop();
    }
    await counted.query('select 5');
  } finally {
    await Promise.all([counted.end(), ignored.end()]);
  }

  assert.deepEqual(counter.read(), { statements: 3, roundTrips: 5 });
});

test('when a plan holds the outbox relay\'s reads and marks, then those, and only those, are replayed one at a time across replays', () => {
  const plan = planReplay([
    unit(0, [statement('insert into messaging.outbox (id) values ($1)', [messageId], [], 'INSERT')]),
    unit(1, [
      statement('select position, id from messaging.outbox where sent_at is null and position <> all($1::bigint[]) order by position limit 100', [[]], [{ position: 41, id: messageId }]),
      statement('update messaging.outbox set sent_at = now() where position = any($1::bigint[])', [[41]], [], 'UPDATE'),
    ]),
    unit(2, [statement('insert into messaging.inbox (message_id) values ($1)', [messageId], [], 'INSERT')]),
  ], capturedAt);
  assert.deepEqual(plan.units.map((statements) => statements.some((replayed) => replayed.relay)), [false, true, false]);
});
