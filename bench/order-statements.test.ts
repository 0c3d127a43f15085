import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countOrderStatements, firstTable, selectOrderUnits, tokensIn } from './order-statements.ts';
import { transactionBoundary, type CapturedStatement, type CapturedUnit } from './statement-capture.ts';

const orderId = 'ord_11111111-1111-4111-8111-111111111111';
const messageId = '22222222-2222-4222-8222-222222222222';
const paymentId = 'pay_33333333-3333-4333-8333-333333333333';

function statement(text: string, values: unknown[] = [], rows: Record<string, unknown>[] = [], command: string | null = null): CapturedStatement {
  return { text, values, rows, rowCount: rows.length, command };
}

function transaction(sequence: number, statements: CapturedStatement[], outcome: CapturedUnit['outcome'] = 'commit'): CapturedUnit {
  return { connection: 0, sequence, transaction: true, outcome, statements: [statement('begin'), ...statements, statement(outcome === 'rollback' ? 'rollback' : 'commit')] };
}

function single(sequence: number, captured: CapturedStatement): CapturedUnit {
  return { connection: 1, sequence, transaction: false, outcome: 'commit', statements: [captured] };
}

test('when units mention the order directly or through ids they share, then they are the order\'s, and polls that found nothing are not', () => {
  const placed = transaction(0, [statement('insert into orders.orders (id) values ($1)', [orderId], [], 'INSERT'), statement('insert into messaging.outbox (id, payload) values ($1, $2)', [messageId, JSON.stringify({ orderId })], [], 'INSERT')]);
  const idlePoll = single(1, statement('update payments.operations set claim_token = gen_random_uuid() where false returning *', [], [], 'UPDATE'));
  const consumed = transaction(2, [statement('insert into messaging.inbox (consumer, message_id) values ($1, $2)', ['payments', messageId], [], 'INSERT')]);
  const claimed = single(3, statement('select id from payments.payments where order_id = $1', [orderId], [{ id: paymentId }], 'SELECT'));
  const settled = transaction(4, [statement('update payments.payments set status = $1 where id = $2', ['captured', paymentId], [], 'UPDATE')]);
  const unfinished: CapturedUnit = { ...transaction(5, [statement('select 1 from orders.orders where id = $1', [orderId])]), outcome: 'open' };

  const selected = selectOrderUnits([placed, idlePoll, consumed, claimed, settled, unfinished], tokensIn(orderId));

  assert.deepEqual(selected.map((unit) => unit.sequence), [0, 2, 3, 4]);
});

test('when an order\'s statements are counted, then BEGIN and COMMIT are not statements, and each transaction or single statement is one commit', () => {
  const units = [
    transaction(0, [statement('insert into "orders"."orders" (id) values ($1)', [orderId], [], 'INSERT'), statement('select pg_notify($1, \'\')', ['channel'], [{ pg_notify: '' }], 'SELECT')]),
    single(1, statement('select * from catalog.products where sku = $1', ['BENCH-00001'], [{ sku: 'BENCH-00001' }], 'SELECT')),
    transaction(2, [statement('update orders.orders set status = $1', ['CONFIRMED'], [], 'UPDATE')], 'rollback'),
  ];

  const counts = countOrderStatements(units);

  assert.deepEqual({ ...counts, byTable: undefined }, {
    statements: 3, commits: 2, transactions: 1, autocommitStatements: 1, reads: 2, writes: 1, rolledBack: 1, byTable: undefined,
  });
  assert.deepEqual(counts.byTable, { 'catalog.products': 1, 'orders.orders': 1, 'pg_notify()': 1 });
});

test('when a statement opens, ends or undoes a transaction, then it is told apart from a savepoint rollback and from ordinary statements', () => {
  assert.equal(transactionBoundary('begin'), 'begin');
  assert.equal(transactionBoundary('  BEGIN; SET LOCAL lock_timeout = 30000; COMMIT;'), 'begin');
  assert.equal(transactionBoundary('commit'), 'commit');
  assert.equal(transactionBoundary('rollback'), 'rollback');
  assert.equal(transactionBoundary('rollback to savepoint a'), undefined);
  assert.equal(transactionBoundary('select begin_date from t'), undefined);
});

test('when a statement names schema-qualified tables, then the first one names it, quoted or not', () => {
  assert.equal(firstTable('select * from "orders"."orders" where id = $1'), 'orders.orders');
  assert.equal(firstTable('with due as (select id from payments.operations) update payments.operations set x = 1'), 'payments.operations');
  assert.equal(firstTable('INSERT INTO pgboss.job_common (id) values ($1)'), 'pgboss.job_common');
  assert.equal(firstTable('select pg_try_advisory_xact_lock($1) as locked'), 'pg_try_advisory_xact_lock()');
  assert.equal(firstTable('show server_version'), 'other');
});
