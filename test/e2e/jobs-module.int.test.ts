import assert from 'node:assert/strict';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { PDFParse } from 'pdf-parse';
import type { Database } from '../../src/platform/database/database.ts';
import type { HttpApp } from '../../src/platform/http/app.ts';
import { createEnvelope, handleOnce } from '../../src/platform/messaging/index.ts';
import type { CatalogClient } from '../../src/modules/catalog/index.ts';
import { ordersEvents, type OrderConfirmedV1 } from '../../src/modules/orders/index.ts';
import type { JobsModule } from '../../src/modules/jobs/index.ts';
import { csvUpload, multipartBody } from '../../src/modules/jobs/testing/multipart.ts';
import { startJobsHarness, type JobsHarness } from './harness/jobs-harness.ts';

const admin = { 'x-dev-customer-id': 'admin-1', 'x-dev-roles': 'admin' };
const customer = (id: string) => ({ 'x-dev-customer-id': id });
const maxBytes = 64 * 1024;
const header = 'sku,name,description,price,currency,stock\n';

let app: HttpApp;
let db: Database;
let jobs: JobsModule;
let catalog: CatalogClient;
let documentsDir: string;

let harness: JobsHarness;

before(async () => {
  harness = await startJobsHarness({ importMaxBytes: maxBytes, jobConcurrency: 2 });
  ({ app, db, jobs, catalog, documentsDir } = harness);
});
after(async () => { await harness.stop(); });

interface JobBody {
  id: string;
  status: string;
  progress: { done: number; total: number | null };
  counts: { created: number; updated: number; rejected: number };
  errors?: { line: number; reason: string; faults: { column: string | null; reason: string }[] }[];
  errorReportUrl: string | null;
  requestId: string | null;
}

async function upload(content: string, headers: Record<string, string> = {}): Promise<string> {
  const { payload, headers: multipart } = csvUpload(content);
  const response = await app.inject({ method: 'POST', url: '/v1/imports', payload, headers: { ...admin, ...multipart, ...headers } });
  assert.equal(response.statusCode, 202, response.body);
  const body = response.json<{ id: string; status: string; statusUrl: string }>();
  assert.equal(body.status, 'queued');
  assert.equal(response.headers.location, body.statusUrl);
  return body.id;
}

async function jobOf(id: string): Promise<JobBody> {
  const response = await app.inject({ method: 'GET', url: `/v1/jobs/${id}`, headers: admin });
  assert.equal(response.statusCode, 200, response.body);
  return response.json<JobBody>();
}

/** Polls until the job ends; generous deadline, no timing asserted. */
async function finished(id: string): Promise<JobBody> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const job = await jobOf(id);
    if (['succeeded', 'failed', 'cancelled'].includes(job.status)) return job;
    if (Date.now() > deadline) assert.fail(`job ${id} is still ${job.status}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function jobCount(): Promise<number> {
  const result = await sql<{ count: number }>`select count(*)::int as count from jobs.jobs`.execute(db);
  return result.rows[0]?.count ?? 0;
}

async function storedUploads(): Promise<string[]> {
  return readdir(join(documentsDir, 'imports')).catch(() => []);
}

describe('POST /v1/imports', () => {
  test('when a valid CSV is uploaded, then 202 comes at once and the worker creates the products and their stock', async () => {
    const id = await upload(header + 'imp-1,Green tea,Loose leaf,450,EUR,30\nimp-2,"Black tea, strong","",500,EUR,0\nimp-3,Mug,,1299,USD,7\nimp-4,Cup,,800,EUR,2\n', { 'x-request-id': 'upload-req-1' });
    const job = await finished(id);
    assert.equal(job.status, 'succeeded');
    assert.deepEqual(job.progress, { done: 4, total: 4 });
    assert.deepEqual(job.counts, { created: 4, updated: 0, rejected: 0 });
    assert.equal(job.requestId, 'upload-req-1');
    assert.equal(job.errorReportUrl, null);
    const products = await catalog.findProductsBySku(['IMP-1', 'IMP-2', 'IMP-3', 'IMP-4']);
    assert.deepEqual(products.map((product) => [product.sku, product.name, product.price.amount, product.price.currency]).sort(), [
      ['IMP-1', 'Green tea', 450, 'EUR'], ['IMP-2', 'Black tea, strong', 500, 'EUR'], ['IMP-3', 'Mug', 1299, 'USD'], ['IMP-4', 'Cup', 800, 'EUR'],
    ]);
    const stock = await app.inject({ method: 'GET', url: '/v1/inventory/IMP-1', headers: admin });
    assert.equal(stock.json<{ onHand: number }>().onHand, 30);
  });

  test('when the same file is imported again with changes, then products are updated, not duplicated', async () => {
    const id = await upload(header + 'imp-1,Green tea,Loose leaf,475,EUR,31\n');
    const job = await finished(id);
    assert.deepEqual(job.counts, { created: 0, updated: 1, rejected: 0 });
    assert.equal((await catalog.findProductsBySku(['IMP-1']))[0]?.price.amount, 475);
  });

  test('when rows are bad, then the job succeeds, rejects each once by line with all its faults and offers them as errors.csv', async () => {
    const file = Buffer.concat([
      Buffer.from(header),
      Buffer.from('bad-1,Good,,100,EUR,1\n'), // 2
      Buffer.from('bad-2,Negative,,-1,EUR,1\n'), // 3
      Buffer.from('bad-3,Currency,,100,ABC,1\n'), // 4
      Buffer.from('bad-1,Again,,100,EUR,1\n'), // 5
      Buffer.from('bad-4,,,100,EUR,1\n'), // 6
      Buffer.from('bad-5,Columns,100\n'), // 7
      Buffer.from('bad-6,"Broken "quote",,100,EUR,1\n'), // 8
      Buffer.from('bad-7,Latin1 '), Buffer.from([0xe9, 0xff]), Buffer.from(',,100,EUR,1\n'), // 9
      Buffer.from('bad-8,,,12.50,EUR,lots\n'), // 10
    ]);
    const { payload, headers } = csvUpload(file);
    const response = await app.inject({ method: 'POST', url: '/v1/imports', payload, headers: { ...admin, ...headers } });
    assert.equal(response.statusCode, 202, response.body);
    const job = await finished(response.json<{ id: string }>().id);
    assert.equal(job.status, 'succeeded');
    assert.deepEqual(job.counts, { created: 1, updated: 0, rejected: 8 }, 'a row with three faults is one rejected row');
    assert.deepEqual(job.errors?.map((error) => error.line), [3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual(job.errors[0]?.faults, [{ column: 'price', reason: 'price must not be negative' }]);
    assert.deepEqual(job.errors[4]?.faults, [{ column: null, reason: 'has 3 columns; expected 6' }]);
    assert.deepEqual(job.errors[6]?.faults, [{ column: 'name', reason: 'name is not valid UTF-8 text' }]);
    const threeFaults = [
      { column: 'name', reason: 'name must not be empty' },
      { column: 'price', reason: 'price must be a whole number of minor units (e.g. cents)' },
      { column: 'stock', reason: 'stock must be a whole number from 0 to 1000000000' },
    ];
    assert.deepEqual(job.errors[7], { line: 10, reason: threeFaults.map((fault) => fault.reason).join('; '), faults: threeFaults });
    assert.equal(job.errorReportUrl, `/v1/jobs/${job.id}/errors.csv`);
    const report = await app.inject({ method: 'GET', url: job.errorReportUrl, headers: admin });
    assert.equal(report.statusCode, 200);
    assert.match(report.headers['content-type'] ?? '', /^text\/csv/);
    const lines = report.body.trim().split('\n');
    assert.equal(lines[0], 'line,reason,columns');
    assert.equal(lines[1], '3,price must not be negative,price');
    assert.equal(lines[5], '7,has 3 columns; expected 6,');
    assert.equal(lines[8], `10,${threeFaults.map((fault) => fault.reason).join('; ')},name;price;stock`);
    assert.equal(lines.length, 9, 'one line per rejected row');
  });

  test('when a row error was stored before faults were, then it is answered as its one fault, of the row as a whole', async () => {
    const id = `job_${crypto.randomUUID()}`;
    await sql`
      insert into jobs.jobs (id, kind, status, rejected_count, created_at, updated_at, finished_at)
      values (${id}, 'catalog-import', 'succeeded', 1, now() - interval '1 day', now() - interval '1 day', now() - interval '1 day')`.execute(db);
    await sql`insert into jobs.row_errors (job_id, line, reason) values (${id}, 2, 'price must not be negative')`.execute(db);
    const job = await jobOf(id);
    assert.deepEqual(job.errors, [{ line: 2, reason: 'price must not be negative', faults: [{ column: null, reason: 'price must not be negative' }] }]);
    const report = await app.inject({ method: 'GET', url: `/v1/jobs/${id}/errors.csv`, headers: admin });
    assert.equal(report.body, 'line,reason,columns\n2,price must not be negative,\n');
  });

  const refused: { when: string; status: number; request: () => { payload: Buffer | string; headers: Record<string, string> } }[] = [
    { when: 'the body is JSON, not multipart', status: 415, request: () => ({ payload: JSON.stringify({ file: 'x' }), headers: { ...admin, 'content-type': 'application/json' } }) },
    { when: 'there is no file part', status: 400, request: () => { const body = multipartBody([{ name: 'note', value: 'hello' }]); return { payload: body.payload, headers: { ...admin, ...body.headers } }; } },
    { when: 'the header names other columns', status: 400, request: () => { const body = csvUpload('sku,title,price\nA,B,1\n'); return { payload: body.payload, headers: { ...admin, ...body.headers } }; } },
    { when: 'the file is empty', status: 400, request: () => { const body = csvUpload(''); return { payload: body.payload, headers: { ...admin, ...body.headers } }; } },
    { when: 'the file is over the size limit', status: 413, request: () => { const body = csvUpload(header + 'big-1,Big,,1,EUR,1\n'.repeat(Math.ceil(maxBytes / 18) + 10)); return { payload: body.payload, headers: { ...admin, ...body.headers } }; } },
    { when: 'the file is not CSV', status: 415, request: () => { const body = csvUpload(header, 'image/png'); return { payload: body.payload, headers: { ...admin, ...body.headers } }; } },
    {
      when: 'the multipart body ends before its closing boundary', status: 400,
      request: () => ({ payload: `--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\nContent-Type: text/csv\r\n\r\n${header}A-1,A,,1,EUR,1\n`, headers: { ...admin, 'content-type': 'multipart/form-data; boundary=b' } }),
    },
    { when: 'the multipart content type names no boundary', status: 400, request: () => ({ payload: '--x\r\n', headers: { ...admin, 'content-type': 'multipart/form-data' } }) },
    { when: 'the caller is a customer', status: 403, request: () => { const body = csvUpload(header); return { payload: body.payload, headers: { ...customer('cust-1'), ...body.headers } }; } },
    { when: 'the caller is anonymous', status: 401, request: () => { const body = csvUpload(header); return { payload: body.payload, headers: body.headers }; } },
  ];
  for (const { when, status, request } of refused) {
    test(`when ${when}, then ${status} problem+json and nothing is stored or queued`, async () => {
      const jobsBefore = await jobCount();
      const uploadsBefore = await storedUploads();
      const response = await app.inject({ method: 'POST', url: '/v1/imports', ...request() });
      assert.equal(response.statusCode, status, response.body);
      assert.match(response.headers['content-type'] ?? '', /^application\/problem\+json/);
      assert.equal(await jobCount(), jobsBefore);
      assert.deepEqual(await storedUploads(), uploadsBefore);
    });
  }
});

describe('POST /v1/imports at the edges of its input', () => {
  /** A CSV of exactly `bytes` bytes: the header, then rows of one product padded in its description. */
  const csvOfSize = (bytes: number): string => {
    const row = (description: string) => `size-1,Sized,${description},100,EUR,1\n`;
    return header + row('x'.repeat(bytes - header.length - row('').length));
  };

  test('when the file is exactly the size limit, then it is accepted; one byte more, then 413 problem+json and nothing is stored or queued', async () => {
    assert.equal(Buffer.byteLength(csvOfSize(maxBytes)), maxBytes);
    const id = await upload(csvOfSize(maxBytes));
    assert.equal((await finished(id)).status, 'succeeded');
    const jobsBefore = await jobCount();
    const uploadsBefore = await storedUploads();
    const { payload, headers } = csvUpload(csvOfSize(maxBytes + 1));
    const response = await app.inject({ method: 'POST', url: '/v1/imports', payload, headers: { ...admin, ...headers } });
    assert.equal(response.statusCode, 413, response.body);
    assert.match(response.headers['content-type'] ?? '', /^application\/problem\+json/);
    assert.equal(await jobCount(), jobsBefore);
    assert.deepEqual(await storedUploads(), uploadsBefore);
  });

  const malformed: { when: string; request: () => { payload: Buffer | string; headers: Record<string, string> } }[] = [
    {
      when: 'the body is cut off in the middle of the file part',
      request: () => {
        const { payload, headers } = csvUpload(header + 'cut-1,Cut,,100,EUR,1\n'.repeat(500));
        return { payload: payload.subarray(0, Math.floor(payload.length / 2)), headers: { ...admin, ...headers } };
      },
    },
    {
      when: 'the multipart content type names no boundary, before a well-formed body',
      request: () => ({ payload: csvUpload(header).payload, headers: { ...admin, 'content-type': 'multipart/form-data' } }),
    },
    {
      when: 'the body holds no boundary line',
      request: () => ({ payload: `${header}nob-1,None,,100,EUR,1\n`, headers: { ...admin, 'content-type': 'multipart/form-data; boundary=b' } }),
    },
  ];
  for (const { when, request } of malformed) {
    test(`when ${when}, then 400 problem+json saying the body is not valid multipart, and nothing is stored or queued`, async () => {
      const jobsBefore = await jobCount();
      const uploadsBefore = await storedUploads();
      const response = await app.inject({ method: 'POST', url: '/v1/imports', ...request() });
      assert.equal(response.statusCode, 400, response.body);
      assert.match(response.headers['content-type'] ?? '', /^application\/problem\+json/);
      const problem = response.json<{ type: string; detail: string }>();
      assert.equal(problem.type, 'https://orderstream.dev/problems/validation-error');
      assert.match(problem.detail, /multipart\/form-data/);
      assert.equal(await jobCount(), jobsBefore);
      assert.deepEqual(await storedUploads(), uploadsBefore);
    });
  }
});

describe('GET /v1/jobs and POST /v1/jobs/{id}/cancel', () => {
  test('when pages are followed by nextCursor, then every job is listed once, newest first', async () => {
    const ids = [await upload(header), await upload(header), await upload(header)];
    const seen: string[] = [];
    let url = '/v1/jobs?limit=2';
    for (;;) {
      const page = (await app.inject({ method: 'GET', url, headers: admin })).json<{ items: { id: string }[]; nextCursor: string | null }>();
      seen.push(...page.items.map((item) => item.id));
      if (page.nextCursor === null) break;
      url = `/v1/jobs?limit=2&cursor=${encodeURIComponent(page.nextCursor)}`;
    }
    assert.equal(new Set(seen).size, seen.length);
    assert.deepEqual(seen.slice(0, 3), [...ids].reverse());
    assert.equal(seen.length, await jobCount());
  });

  test('when a long import is cancelled, then it ends cancelled before its last row; cancelling again is 409', async () => {
    const rows = Array.from({ length: 600 }, (_, index) => `long-${index},Long ${index},,100,EUR,1\n`).join('');
    const id = await upload(header + rows);
    const cancel = await app.inject({ method: 'POST', url: `/v1/jobs/${id}/cancel`, headers: admin });
    assert.equal(cancel.statusCode, 200, cancel.body);
    assert.equal(cancel.json<{ status: string }>().status, 'cancelled');
    const job = await finished(id);
    assert.equal(job.status, 'cancelled');
    assert.ok(job.progress.done < 600, `done ${job.progress.done}`);
    const again = await app.inject({ method: 'POST', url: `/v1/jobs/${id}/cancel`, headers: admin });
    assert.equal(again.statusCode, 409);
    assert.match(again.headers['content-type'] ?? '', /^application\/problem\+json/);
    // The upload and the cancellation are administrative acts, each audited once; the refused second cancellation is not.
    const audited = await sql<{ action: string; before: unknown; after: unknown }>`
      select action, before, after from audit.entries where target_id = ${id} order by id`.execute(db);
    assert.deepEqual(audited.rows.map((row) => row.action), ['jobs.import-started', 'jobs.job-cancelled']);
    const cancellation = audited.rows[1];
    assert.ok(cancellation !== undefined);
    assert.deepEqual(cancellation.after, { status: 'cancelled' });
    assert.ok(['queued', 'running'].includes((cancellation.before as { status: string }).status));
  });

  test('when the job does not exist or the caller is a customer, then 404 or 403 problem+json', async () => {
    assert.equal((await app.inject({ method: 'GET', url: '/v1/jobs/job_missing', headers: admin })).statusCode, 404);
    assert.equal((await app.inject({ method: 'POST', url: '/v1/jobs/job_missing/cancel', headers: admin })).statusCode, 404);
    assert.equal((await app.inject({ method: 'GET', url: '/v1/jobs', headers: customer('cust-1') })).statusCode, 403);
    assert.equal((await app.inject({ method: 'GET', url: '/v1/jobs?cursor=nonsense', headers: admin })).statusCode, 400);
  });
});

describe('invoices', () => {
  const orderId = `ord_${crypto.randomUUID()}`;
  const confirmed: OrderConfirmedV1 = {
    orderId,
    customer: { id: 'cust-7', email: 'cust-7@example.com' },
    lines: [{ sku: 'IMP-1', name: 'Green tea', quantity: 2, unitPrice: { amount: 450, currency: 'EUR' }, lineTotal: { amount: 900, currency: 'EUR' } }],
    total: { amount: 900, currency: 'EUR' },
    confirmedAt: '2026-03-04T05:06:07.000Z',
  };

  const download = (headers: Record<string, string>) => app.inject({ method: 'GET', url: `/v1/orders/${orderId}/invoice`, headers });
  const documentOf = async () => (await sql<{ document_key: string | null }>`select document_key from jobs.invoices where order_id = ${orderId}`.execute(db)).rows;

  test('when an order is confirmed (even twice), then its invoice PDF can be downloaded at once by its owner and admins, and by nobody else', async () => {
    assert.equal((await download(customer('cust-7'))).statusCode, 404);
    const [consumer] = jobs.consumers;
    assert.ok(consumer);
    for (let delivery = 0; delivery < 2; delivery += 1) {
      const envelope = createEnvelope({ ...ordersEvents.confirmed, key: orderId, payload: confirmed });
      await handleOnce(db, consumer.name, envelope, (transaction) => consumer.handle(envelope, transaction));
    }
    assert.deepEqual(await documentOf(), [{ document_key: null }], 'one invoice recorded, not drawn before it is asked for');

    const response = await download(customer('cust-7'));
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['content-type'], 'application/pdf');
    const parser = new PDFParse({ data: new Uint8Array(response.rawPayload) });
    const { text } = await parser.getText().finally(() => parser.destroy());
    assert.ok(text.includes(orderId), 'the order id is drawn on the invoice');
    assert.ok(text.includes('Total: 9.00 EUR'), 'the formatted total is drawn on the invoice');
    assert.ok(text.includes('OrderStream Test Shop'), 'the seller is drawn on the invoice');
    const invoiceJobs = await sql<{ count: number }>`select count(*)::int as count from jobs.jobs where kind = 'invoice'`.execute(db);
    assert.equal(invoiceJobs.rows[0]?.count, 0, 'no job draws invoices');
    assert.equal((await download(admin)).statusCode, 200);
    assert.equal((await download(customer('someone-else'))).statusCode, 404);
  });

  test('when an invoice is downloaded again, or its stored document is lost, then the bytes are the same as the first time', async () => {
    const first = (await download(customer('cust-7'))).rawPayload;
    const [stored] = await documentOf();
    assert.ok(stored?.document_key != null, 'the first download stored the invoice');
    const again = await Promise.all([download(customer('cust-7')), download(admin)]);
    for (const response of again) assert.deepEqual(response.rawPayload, first);

    await rm(join(documentsDir, stored.document_key));
    const redrawn = await download(customer('cust-7'));
    assert.equal(redrawn.statusCode, 200);
    assert.deepEqual(redrawn.rawPayload, first);
    assert.deepEqual((await readdir(join(documentsDir, 'invoices'))).length, 1, 'the lost document is stored again');
  });

  test('when many first downloads of new invoices arrive at once, then each is drawn and stored, and every copy of it is identical', async () => {
    const [consumer] = jobs.consumers;
    assert.ok(consumer);
    const orderIds = Array.from({ length: 8 }, () => `ord_${crypto.randomUUID()}`);
    for (const id of orderIds) {
      const envelope = createEnvelope({ ...ordersEvents.confirmed, key: id, payload: { ...confirmed, orderId: id } });
      await handleOnce(db, consumer.name, envelope, (transaction) => consumer.handle(envelope, transaction));
    }
    const responses = await Promise.all(orderIds.flatMap((id) => [0, 1, 2].map(async () => ({
      id, response: await app.inject({ method: 'GET', url: `/v1/orders/${id}/invoice`, headers: customer('cust-7') }),
    }))));
    for (const id of orderIds) {
      const copies = responses.filter((entry) => entry.id === id).map((entry) => entry.response);
      for (const copy of copies) assert.equal(copy.statusCode, 200);
      for (const copy of copies.slice(1)) assert.deepEqual(copy.rawPayload, copies[0]?.rawPayload);
      assert.ok(copies[0]?.rawPayload.includes(id), `the invoice of ${id} names its order`);
    }
    const drawn = await sql<{ count: number }>`select count(*)::int as count from jobs.invoices where order_id = any(${orderIds}) and document_key is not null`.execute(db);
    assert.equal(drawn.rows[0]?.count, orderIds.length);
  });
});
