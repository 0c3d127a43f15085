import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { HttpApp } from '../../src/platform/http/app.ts';
import { insertExportableOrders } from './harness/exportable-orders.ts';
import { eventually } from './harness/fulfilment-harness.ts';
import { startJobsHarness, type JobsHarness } from './harness/jobs-harness.ts';

const admin = { 'x-dev-customer-id': 'admin-1', 'x-dev-roles': 'admin' };
const customer = { 'x-dev-customer-id': 'cus_1' };
const orderCount = 23;
// The documented columns (README), in order.
const header = 'order_id,status,customer_id,customer_email,created_at,updated_at,currency,total_minor,total,refunded_minor,refunded,line_count,lines,cancellation_reason';
// 300 µs apart: parts of 4 end inside a millisecond (order 16 at 4.8 ms, order 15 at 4.5 ms), which a
// cursor rounded to milliseconds would skip.
const start = new Date('2026-03-01T10:00:00.000Z');

let harness: JobsHarness;
let app: HttpApp;

before(async () => {
  harness = await startJobsHarness({ exportPartSize: 4 });
  app = harness.app;
  await insertExportableOrders(harness.db, { count: orderCount, prefix: 'ord_exp_', start, stepMicroseconds: 300 });
  // Cells a spreadsheet would run as formulas.
  await sql`update orders.orders set customer_email = '=HYPERLINK("http://evil.example")@example.com', cancellation_reason = '+1-2'
    where id = 'ord_exp_000005'`.execute(harness.db);
  await sql`update orders.orders set cancellation_reason = '@SUM(A1)' where id = 'ord_exp_000010'`.execute(harness.db);
});
after(async () => { await harness.stop(); });

interface JobBody { id: string; status: string; kind: string; progress: { done: number; total: number | null }; fileUrl: string | null; lastError: string | null }

async function startExport(body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<{ id: string; fileUrl: string }> {
  const response = await app.inject({ method: 'POST', url: '/v1/exports/orders', payload: body, headers: { ...admin, ...headers } });
  assert.equal(response.statusCode, 202, response.body);
  const accepted = response.json<{ id: string; status: string; statusUrl: string; fileUrl: string }>();
  assert.equal(accepted.status, 'queued');
  assert.equal(response.headers.location, accepted.statusUrl);
  return accepted;
}

async function finished(id: string): Promise<JobBody> {
  let job: JobBody | undefined;
  await eventually(async () => {
    const response = await app.inject({ method: 'GET', url: `/v1/jobs/${id}`, headers: admin });
    job = response.json<JobBody>();
    assert.notEqual(job.status, 'failed', JSON.stringify(job));
    return job.status === 'succeeded';
  }, 'the export to succeed', 30_000);
  assert.ok(job !== undefined);
  return job;
}

async function exported(body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<{ job: JobBody; file: string; type: string }> {
  const accepted = await startExport(body, headers);
  const job = await finished(accepted.id);
  assert.equal(job.fileUrl, accepted.fileUrl);
  const response = await app.inject({ method: 'GET', url: accepted.fileUrl, headers: admin });
  assert.equal(response.statusCode, 200, response.body);
  assert.equal(Number(response.headers['content-length']), Buffer.byteLength(response.body));
  return { job, file: response.body, type: String(response.headers['content-type']) };
}

const idOf = (index: number) => `ord_exp_${String(index).padStart(6, '0')}`;
const newestFirst = (indexes: number[]) => [...indexes].sort((a, b) => b - a).map(idOf);

describe('POST /v1/exports/orders', () => {
  test('when an admin exports every order as CSV, then the file has the header and each order once, newest first, across parts that end inside a millisecond', async () => {
    const { job, file, type } = await exported({});
    assert.match(type, /^text\/csv/);
    assert.deepEqual(job.progress, { done: orderCount, total: orderCount });
    const lines = file.split('\r\n');
    assert.equal(lines.at(-1), '', 'every record ends with CRLF');
    assert.equal(lines[0], header);
    const ids = lines.slice(1, -1).map((line) => line.split(',')[0]);
    assert.deepEqual(ids, newestFirst(Array.from({ length: orderCount }, (_, index) => index + 1)));
    const parts = await sql<{ count: number }>`select count(*)::int as count from jobs.export_parts where job_id = ${job.id}`.execute(harness.db);
    assert.deepEqual(parts.rows, [{ count: 6 }], 'parts of 4 orders: 4 × 5 + 3');
    // Order 7: quantity 4 at 2.50 EUR; placed 2.1 ms after the start.
    const seventh = lines.find((line) => line.startsWith(`${idOf(7)},`));
    assert.equal(seventh, `${idOf(7)},CONFIRMED,cus_0,cus_0@example.com,2026-03-01T10:00:00.002Z,2026-03-01T10:00:01.002Z,EUR,1000,10.00,,,1,EXP-1 x 4,`);
  });

  test('when a cell starts with = + - or @, then the CSV neutralises it with an apostrophe', async () => {
    const { file } = await exported({});
    const fifth = file.split('\r\n').find((line) => line.startsWith(`${idOf(5)},`)) ?? '';
    assert.ok(fifth.includes(`"'=HYPERLINK(""http://evil.example"")@example.com"`), fifth);
    assert.ok(fifth.endsWith(",'+1-2"), fifth);
    const tenth = file.split('\r\n').find((line) => line.startsWith(`${idOf(10)},`)) ?? '';
    assert.ok(tenth.endsWith(",'@SUM(A1)"), tenth);
  });

  test('when filters are given, then only the orders matching all of them are written', async () => {
    const cancelled = await exported({ status: 'CANCELLED' });
    assert.deepEqual(cancelled.file.split('\r\n').slice(1, -1).map((line) => line.split(',')[0]), newestFirst([5, 10, 15, 20]));
    const bySku = await exported({ sku: 'exp-2', customerId: 'cus_5' });
    const expected = Array.from({ length: orderCount }, (_, index) => index + 1).filter((g) => g % 3 === 2 && g % 7 === 5);
    assert.deepEqual(bySku.file.split('\r\n').slice(1, -1).map((line) => line.split(',')[0]), newestFirst(expected));
    const byTime = await exported({ from: '2026-03-01T10:00:00.002Z', to: '2026-03-01T10:00:00.004Z', email: 'CUS_3@example.com' });
    assert.deepEqual(byTime.file.split('\r\n').slice(1, -1).map((line) => line.split(',')[0]), newestFirst([7, 8, 9, 10, 11, 12, 13].filter((g) => g % 7 === 3)));
  });

  test('when JSON Lines are asked for by the format or by Accept, then each line is one order with money in minor units and formatted', async () => {
    for (const [body, headers] of [[{ format: 'jsonl' }, {}], [{}, { accept: 'application/x-ndjson' }]] as const) {
      const { file, type } = await exported(body, headers);
      assert.match(type, /^application\/x-ndjson/);
      const records = file.trimEnd().split('\n').map((line) => JSON.parse(line) as { order_id: string; total: unknown; lines: unknown[] });
      assert.equal(records.length, orderCount);
      const seventh = records.find((record) => record.order_id === idOf(7));
      assert.ok(seventh !== undefined);
      assert.deepEqual(seventh.total, { amount: 1000, currency: 'EUR', formatted: '10.00' });
      assert.deepEqual(seventh.lines, [{ sku: 'EXP-1', quantity: 4, line_total: { amount: 1000, currency: 'EUR' } }]);
    }
  });

  test('when no order matches, then the export succeeds with the header alone', async () => {
    const { job, file } = await exported({ sku: 'NO-SUCH-SKU' });
    assert.deepEqual(job.progress, { done: 0, total: 0 });
    assert.equal(file, `${header}\r\n`);
  });

  test('when the request is not valid, then 400 problem+json names the field and no job is queued', async () => {
    const before = await sql<{ count: number }>`select count(*)::int as count from jobs.jobs`.execute(harness.db);
    for (const body of [
      { format: 'xlsx' }, { status: 'SHIPPED' }, { from: 'yesterday' }, { surprise: true },
      { from: '2026-03-02T00:00:00Z', to: '2026-03-01T00:00:00Z' }, { sku: '' },
    ]) {
      const response = await app.inject({ method: 'POST', url: '/v1/exports/orders', payload: body, headers: admin });
      assert.equal(response.statusCode, 400, `${JSON.stringify(body)}: ${response.body}`);
      assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
    }
    const after = await sql<{ count: number }>`select count(*)::int as count from jobs.jobs`.execute(harness.db);
    assert.deepEqual(after.rows, before.rows);
  });

  test('when a customer asks, then exports and files are forbidden (403)', async () => {
    const response = await app.inject({ method: 'POST', url: '/v1/exports/orders', payload: {}, headers: customer });
    assert.equal(response.statusCode, 403, response.body);
    const { id } = await startExport({});
    await finished(id);
    const file = await app.inject({ method: 'GET', url: `/v1/jobs/${id}/file`, headers: customer });
    assert.equal(file.statusCode, 403, file.body);
  });

  test('when the file is asked for before the export succeeded, of an import, or of no job, then 409 or 404', async () => {
    const id = 'job_not_started_export';
    await sql`insert into jobs.jobs (id, kind, status, input, created_at, updated_at)
      values (${id}, 'order-export', 'queued', ${JSON.stringify({ format: 'csv', filter: {}, placedBefore: new Date().toISOString() })}::jsonb, now(), now())`.execute(harness.db);
    const early = await app.inject({ method: 'GET', url: `/v1/jobs/${id}/file`, headers: admin });
    assert.equal(early.statusCode, 409, early.body);
    assert.match(early.json<{ detail: string }>().detail, /queued/);
    await sql`insert into jobs.jobs (id, kind, status, created_at, updated_at) values ('job_an_import', 'catalog-import', 'succeeded', now(), now())`.execute(harness.db);
    for (const other of ['job_an_import', 'job_nothing_here']) {
      const response = await app.inject({ method: 'GET', url: `/v1/jobs/${other}/file`, headers: admin });
      assert.equal(response.statusCode, 404, response.body);
    }
  });
});

