import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { createHttpApp, type HttpApp } from '../../../../platform/http/app.ts';
import { encodeCursor } from '../../../../platform/http/cursor.ts';
import { createLogger } from '../../../../platform/logging/logger.ts';
import { auditMigrations } from '../../../../platform/audit/index.ts';
import { messagingMigrations } from '../../../../platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import { createPaymentsModule, paymentsMigrations } from '../../index.ts';
import { anOrderId } from '../../testing/payment-builders.ts';

let app: HttpApp;
let db: Database;
let drop: () => Promise<void>;

before(async () => {
  ({ db, drop } = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, auditMigrations, paymentsMigrations]));
  const logger = createLogger({ level: 'silent' });
  // The worker is not started: a retried operation stays pending, as the route leaves it.
  const payments = createPaymentsModule({ db, logger, provider: 'simulated', simulatedDelayMs: 0 });
  app = createHttpApp({ logger, bodyLimit: 16 * 1024, readiness: [], routes: [payments.routes] });
  await app.ready();
});
after(async () => {
  await app.close();
  await drop();
});

interface OperationDto {
  id: string;
  orderId: string;
  kind: string;
  status: string;
  attempts: number;
  outcome: string | null;
  lastError: string | null;
  amount: { amount: number; currency: string } | null;
  paymentStatus: string | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

/** An order's payment and one operation, stored as the worker leaves them. */
async function anOperation(options: { kind?: string; status?: string; paymentStatus?: string | null; orderId?: string } = {}): Promise<{ id: string; orderId: string }> {
  const orderId = options.orderId ?? anOrderId();
  const paymentStatus = options.paymentStatus === undefined ? 'authorized' : options.paymentStatus;
  if (paymentStatus !== null) {
    await sql`insert into payments.payments (order_id, id, amount, currency, token, status, provider_payment_id, created_at, updated_at)
      values (${orderId}, ${`pay_${orderId}`}, 4200, 'EUR', 'tok_visa', ${paymentStatus}, ${`sim_${orderId}`}, now(), now())
      on conflict (order_id) do nothing`.execute(db);
  }
  const status = options.status ?? 'failed';
  const inserted = await sql<{ id: number }>`
    insert into payments.operations (order_id, kind, status, attempts, outcome, detail, finished_at, next_attempt_at)
    values (${orderId}, ${options.kind ?? 'void'}, ${status}, 5, ${status === 'pending' ? null : status}, 'gave up after repeated transient failures: timeout',
      ${status === 'pending' ? null : new Date()}, now() + interval '1 hour')
    returning id`.execute(db);
  return { id: String(inserted.rows[0]?.id), orderId };
}

async function stored(id: string) {
  return (await sql<{ status: string; attempts: number; due_now: boolean }>`
    select status, attempts, next_attempt_at <= now() as due_now from payments.operations where id = ${Number(id)}`.execute(db)).rows[0];
}

async function pageOf(url: string): Promise<{ items: OperationDto[]; nextCursor: string | null }> {
  const response = await app.inject({ method: 'GET', url });
  assert.equal(response.statusCode, 200, response.body);
  return response.json();
}

/** Every item of `url`'s pages, following nextCursor. */
async function listAll(url: string): Promise<OperationDto[]> {
  const seen: OperationDto[] = [];
  let page = await pageOf(url);
  seen.push(...page.items);
  while (page.nextCursor !== null) {
    page = await pageOf(`${url}&cursor=${encodeURIComponent(page.nextCursor)}`);
    seen.push(...page.items);
  }
  return seen;
}

describe('GET /v1/admin/payment-operations', () => {
  test('when following nextCursor with status=failed, then every failed operation is listed once, with its payment\'s amount, and no other status', async () => {
    const failed = [await anOperation(), await anOperation({ kind: 'refund', paymentStatus: 'captured' }), await anOperation({ paymentStatus: null })];
    const pending = await anOperation({ status: 'pending' });
    const done = await anOperation({ status: 'done' });

    const items = await listAll('/v1/admin/payment-operations?status=failed&limit=2');
    const ids = items.map((item) => item.id);
    assert.deepEqual(ids.filter((id) => failed.some((operation) => operation.id === id)), failed.map((operation) => operation.id));
    assert.equal(new Set(ids).size, ids.length);
    assert.ok(items.every((item) => item.status === 'failed'));
    assert.ok(!ids.includes(pending.id) && !ids.includes(done.id));

    const refund = items.find((item) => item.id === failed[1]?.id);
    assert.deepEqual(
      { ...refund, createdAt: undefined, updatedAt: undefined, finishedAt: undefined },
      {
        id: failed[1]?.id, orderId: failed[1]?.orderId, kind: 'refund', status: 'failed', attempts: 5, outcome: 'failed',
        lastError: 'gave up after repeated transient failures: timeout', amount: { amount: 4200, currency: 'EUR' }, paymentStatus: 'captured',
        createdAt: undefined, updatedAt: undefined, finishedAt: undefined,
      },
    );
    assert.ok(!Number.isNaN(Date.parse(refund?.finishedAt ?? '')));
    const withoutPayment = items.find((item) => item.id === failed[2]?.id);
    assert.deepEqual([withoutPayment?.amount, withoutPayment?.paymentStatus], [null, null]);
  });

  test('when no status is given, then failed operations are listed; with status=pending, only pending ones', async () => {
    const failed = await anOperation();
    const pending = await anOperation({ status: 'pending' });
    const byDefault = (await listAll('/v1/admin/payment-operations?limit=100')).map((item) => item.id);
    assert.ok(byDefault.includes(failed.id) && !byDefault.includes(pending.id));
    const pendingOnly = await listAll('/v1/admin/payment-operations?status=pending&limit=100');
    assert.ok(pendingOnly.some((item) => item.id === pending.id));
    assert.ok(pendingOnly.every((item) => item.status === 'pending'));
  });

  test('when listing with orderId, then every operation of that order is listed, done ones too, and only its own; with a status too, only those', async () => {
    const orderId = anOrderId();
    const authorize = await anOperation({ orderId, kind: 'authorize', status: 'done' });
    const capture = await anOperation({ orderId, kind: 'capture', status: 'failed' });
    const voided = await anOperation({ orderId, kind: 'void', status: 'pending' });
    const other = await anOperation({ kind: 'authorize', status: 'done' });

    const ofOrder = await listAll(`/v1/admin/payment-operations?orderId=${orderId}&limit=1`);
    assert.deepEqual(ofOrder.map((item) => [item.id, item.kind, item.status]), [
      [authorize.id, 'authorize', 'done'], [capture.id, 'capture', 'failed'], [voided.id, 'void', 'pending'],
    ]);
    assert.ok(ofOrder.every((item) => item.orderId === orderId && item.amount?.amount === 4200));
    assert.ok(!ofOrder.some((item) => item.id === other.id));
    assert.deepEqual((await listAll(`/v1/admin/payment-operations?orderId=${orderId}&status=failed`)).map((item) => item.id), [capture.id]);
    assert.deepEqual(await listAll(`/v1/admin/payment-operations?orderId=ord_${crypto.randomUUID()}`), []);
  });

  const badQueries: { when: string; query: string; field: string }[] = [
    { when: 'the orderId is empty', query: 'orderId=', field: 'orderId' },
    { when: 'the orderId is too long', query: `orderId=${'x'.repeat(101)}`, field: 'orderId' },
    { when: 'the cursor is made up', query: 'cursor=abc', field: 'cursor' },
    { when: 'the cursor names a non-numeric id', query: `cursor=${encodeCursor({ createdAt: new Date(), id: 'whe_1' })}`, field: 'cursor' },
    { when: 'the status is done', query: 'status=done', field: 'status' },
    { when: 'the limit is 0', query: 'limit=0', field: 'limit' },
  ];
  for (const { when, query, field } of badQueries) {
    test(`when ${when}, then 400 problem+json names ${field}`, async () => {
      const response = await app.inject({ method: 'GET', url: `/v1/admin/payment-operations?${query}` });
      assert.equal(response.statusCode, 400, response.body);
      assert.match(response.headers['content-type'] ?? '', /^application\/problem\+json/);
      assert.ok(response.json<{ errors: { field: string }[] }>().errors.some((error) => error.field === field), response.body);
    });
  }
});

describe('POST /v1/admin/payment-operations/{id}/retry', () => {
  test('when the operation failed, then 202 with it pending, its attempts reset, and it is due now', async () => {
    const { id, orderId } = await anOperation();
    const response = await app.inject({ method: 'POST', url: `/v1/admin/payment-operations/${id}/retry` });
    assert.equal(response.statusCode, 202, response.body);
    const body = response.json<OperationDto>();
    assert.deepEqual([body.id, body.orderId, body.status, body.attempts, body.outcome, body.finishedAt], [id, orderId, 'pending', 0, null, null]);
    assert.deepEqual(await stored(id), { status: 'pending', attempts: 0, due_now: true });
    const audited = await sql<{ action: string; before: { status: string }; after: unknown }>`
      select action, before, after from audit.entries where target_id = ${id}`.execute(db);
    assert.deepEqual(audited.rows.map((row) => [row.action, row.before.status, row.after]), [['payments.operation-retried', 'failed', { status: 'pending', attempts: 0 }]]);
  });

  test('when it is retried again, or is pending or done, then 409 problem+json and it is left as it was', async () => {
    const retried = await anOperation();
    assert.equal((await app.inject({ method: 'POST', url: `/v1/admin/payment-operations/${retried.id}/retry` })).statusCode, 202);
    const done = await anOperation({ status: 'done' });
    for (const { id } of [retried, done]) {
      const before = await stored(id);
      const response = await app.inject({ method: 'POST', url: `/v1/admin/payment-operations/${id}/retry` });
      assert.equal(response.statusCode, 409, response.body);
      assert.equal(response.json<{ type: string }>().type, 'https://orderstream.dev/problems/conflict');
      assert.match(response.json<{ detail: string }>().detail, /only failed operations can be retried/);
      assert.deepEqual(await stored(id), before);
    }
    const audited = await sql<{ target_id: string }>`
      select target_id from audit.entries where target_id in (${retried.id}, ${done.id})`.execute(db);
    assert.deepEqual(audited.rows.map((row) => row.target_id), [retried.id], 'only the retry that happened is audited');
  });

  test('when a failed capture\'s order has asked for a void since, then 409 says why and the capture stays failed', async () => {
    const capture = await anOperation({ kind: 'capture' });
    await anOperation({ kind: 'void', status: 'done', orderId: capture.orderId });
    const response = await app.inject({ method: 'POST', url: `/v1/admin/payment-operations/${capture.id}/retry` });
    assert.equal(response.statusCode, 409, response.body);
    assert.match(response.json<{ detail: string }>().detail, /voided or refunded; a capture no longer applies/);
    assert.equal((await stored(capture.id))?.status, 'failed');
  });

  for (const id of ['987654321', 'not-a-number']) {
    test(`when the operation ${id} does not exist, then 404 problem+json`, async () => {
      const response = await app.inject({ method: 'POST', url: `/v1/admin/payment-operations/${id}/retry` });
      assert.equal(response.statusCode, 404, response.body);
      assert.equal(response.json<{ type: string }>().type, 'https://orderstream.dev/problems/not-found');
    });
  }
});
