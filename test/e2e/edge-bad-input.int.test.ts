import assert from 'node:assert/strict';
import { createConnection, type AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { InjectOptions } from 'fastify';
import { sql } from 'kysely';
import { loadConfig } from '../../src/platform/config/config.ts';
import { encodeCursor } from '../../src/platform/http/cursor.ts';
import { applyServerTimeouts, serverTimeoutsOf } from '../../src/platform/http/server-timeouts.ts';
import { csvUpload, multipartBody } from '../../src/modules/jobs/testing/multipart.ts';
import { adminHeaders, customerHeaders, startFulfilment, stockProduct, type FulfilmentHarness } from './harness/fulfilment-harness.ts';

// Input the whole single process must refuse as the client's mistake (400, 408, 431 problem+json)
// rather than let reach PostgreSQL and fail with a 500: text with NUL, a cursor naming a date
// PostgreSQL cannot hold, a URL that does not decode, headers too large, a request too slow. Each
// test proves that nothing was written. The app listens with small timeouts, as the CLI sets them.

const limits = { HTTP_REQUEST_TIMEOUT_MS: '1500', HTTP_HEADERS_TIMEOUT_MS: '800', HTTP_KEEP_ALIVE_TIMEOUT_MS: '1000', IMPORT_MAX_BYTES: '1048576' };
let harness: FulfilmentHarness;
let port: number;

before(async () => {
  harness = await startFulfilment(limits, { registerWebhook: false });
  await stockProduct(harness.orderstream, 'INPUT-1', 100);
  applyServerTimeouts(harness.orderstream.app.server, serverTimeoutsOf(loadConfig(limits)));
  await harness.orderstream.app.listen({ host: '127.0.0.1', port: 0 });
  port = (harness.orderstream.app.server.address() as AddressInfo).port;
});
after(async () => { await harness.close(); });

const inject = (options: InjectOptions) => harness.orderstream.app.inject(options);
const customer = customerHeaders('input-customer-1');

/** Row counts of every table a refused request could have written to. */
async function footprint(): Promise<Record<string, number>> {
  const tables = ['identity.users', 'identity.login_throttle_pairs', 'catalog.products', 'inventory.stock_items', 'orders.orders', 'orders.idempotency_keys', 'jobs.jobs'];
  const counts: Record<string, number> = {};
  for (const table of tables) {
    counts[table] = (await sql<{ count: number }>`select count(*)::int as count from ${sql.table(table)}`.execute(harness.db)).rows[0]?.count ?? -1;
  }
  return counts;
}

interface ProblemBody { type: string; title: string; status: number; requestId: string; errors?: { location: string; field: string; message: string }[] }

/** Checks the problem+json every refusal shares and returns its body. */
function assertProblem(response: { statusCode: number; headers: Record<string, unknown>; body: string }, status: number, slug: string): ProblemBody {
  assert.equal(response.statusCode, status, response.body);
  assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
  const body = JSON.parse(response.body) as ProblemBody;
  assert.equal(body.type, `https://orderstream.dev/problems/${slug}`);
  assert.equal(typeof body.title, 'string');
  assert.equal(body.status, status);
  assert.ok(body.requestId.length > 0);
  assert.equal(response.headers['x-request-id'], body.requestId);
  return body;
}

/** Sends `request`, asserts a 400 naming `location` and `field`, and that nothing was written. */
async function assertRefusedField(request: InjectOptions, location: string, field: string, slug = 'validation-error'): Promise<void> {
  const before = await footprint();
  const body = assertProblem(await inject(request), 400, slug);
  if (slug === 'validation-error') assert.ok(body.errors?.some((error) => error.location === location && error.field === field), JSON.stringify(body.errors));
  assert.deepEqual(await footprint(), before);
}

function placeOrder(sku: string, headers: Record<string, string> = {}): InjectOptions {
  return {
    method: 'POST', url: '/v1/orders', headers: { ...customer, 'idempotency-key': crypto.randomUUID(), ...headers },
    payload: { items: [{ sku, quantity: 1 }], payment: { token: 'tok_visa' } },
  };
}

/** Writes `head` on a new connection, then `body` a byte a second; the raw answer once the server closes it. */
async function overSocket(head: string, body = ''): Promise<{ statusCode: number; headers: Record<string, string>; body: string }> {
  const raw = await new Promise<string>((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    const chunks: Buffer[] = [];
    let sent = 0;
    const timer = setInterval(() => { if (sent < body.length && socket.writable) socket.write(body.charAt(sent++)); }, 1000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => { clearInterval(timer); resolve(Buffer.concat(chunks).toString('utf8')); });
    socket.write(head);
  });
  const [rawHead = '', rawBody = ''] = raw.split('\r\n\r\n');
  const [statusLine = '', ...lines] = rawHead.split('\r\n');
  const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).trim().toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
  return { statusCode: Number(statusLine.split(' ')[1]), headers, body: rawBody };
}

describe('text with the NUL character', () => {
  test('when a registration email holds a NUL, then 400 naming body.email and no account is created', async () => {
    await assertRefusedField({ method: 'POST', url: '/v1/auth/register', payload: { email: 'nul\u0000@example.com', password: 'a long enough passphrase' } }, 'body', 'email');
  });

  test('when a sign-in email holds a NUL, then 400 naming body.email and no failure is recorded', async () => {
    await assertRefusedField({ method: 'POST', url: '/v1/auth/login', payload: { email: 'nul\u0000@example.com', password: 'whatever it is' } }, 'body', 'email');
  });

  test('when a product search holds a NUL, then 400 naming querystring.q', async () => {
    await assertRefusedField({ method: 'GET', url: '/v1/products?q=a%00b' }, 'querystring', 'q');
  });

  test('when a product id holds a NUL, then 400 naming params.id', async () => {
    await assertRefusedField({ method: 'GET', url: '/v1/products/a%00b' }, 'params', 'id');
  });

  test('when an order SKU holds a NUL, then 400 naming body.items.0.sku and no order or idempotency key is written', async () => {
    await assertRefusedField(placeOrder('INPUT-1\u0000'), 'body', 'items.0.sku');
  });

  test('when the Idempotency-Key or X-Request-Id header holds a NUL, then 400 naming the header and no order is written', async () => {
    await assertRefusedField(placeOrder('INPUT-1', { 'idempotency-key': 'key\u0000' }), 'headers', 'idempotency-key');
    await assertRefusedField(placeOrder('INPUT-1', { 'x-request-id': 'id\u0000' }), 'headers', 'x-request-id');
  });

  test('when a form field of an import holds a NUL, then 400 naming it and no job is created', async () => {
    const body = multipartBody([{ name: 'note', value: 'a\u0000b' }, { name: 'file', filename: 'products.csv', contentType: 'text/csv', content: 'sku,name,description,price,currency,stock\n' }]);
    await assertRefusedField({ method: 'POST', url: '/v1/imports', headers: { ...adminHeaders, ...body.headers }, payload: body.payload }, 'body', 'note');
  });

  test('when cells of an imported CSV hold a NUL, then the job succeeds with those rows rejected by line and column and the others imported', async () => {
    const { payload, headers } = csvUpload('sku,name,description,price,currency,stock\nINPUT-NUL-1,Bad\u0000name,,100,EUR,1\nINPUT-NUL-2,Good,,100,EUR,1\nINPUT-NUL-3,Bad,desc\u0000,100,EUR,1\n');
    const accepted = await inject({ method: 'POST', url: '/v1/imports', headers: { ...adminHeaders, ...headers }, payload });
    assert.equal(accepted.statusCode, 202, accepted.body);
    const { statusUrl } = accepted.json<{ statusUrl: string }>();
    let job: { status: string; counts: { created: number; rejected: number }; errors?: { line: number; reason: string }[] } | undefined;
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 100))) {
      job = (await inject({ method: 'GET', url: statusUrl, headers: adminHeaders })).json();
      if (job !== undefined && ['succeeded', 'failed', 'cancelled'].includes(job.status)) break;
    }
    assert.equal(job?.status, 'succeeded', JSON.stringify(job));
    assert.deepEqual(job.counts, { created: 1, updated: 0, rejected: 2 });
    assert.deepEqual(job.errors?.map((error) => [error.line, error.reason]), [
      [2, 'name contains the NUL character (U+0000), which no text may hold'],
      [4, 'description contains the NUL character (U+0000), which no text may hold'],
    ]);
  });
});

describe('an import at its size limit', () => {
  /** A CSV of exactly `bytes` bytes: the header, then one product padded in its description. */
  const csvOfSize = (bytes: number): string => {
    const header = 'sku,name,description,price,currency,stock\n';
    const row = (description: string) => `INPUT-SIZE-1,Sized,${description},100,EUR,1\n`;
    return header + row('x'.repeat(bytes - header.length - row('').length));
  };

  test('when the file is exactly IMPORT_MAX_BYTES, then the edge lets its multipart framing through and the import is accepted; one byte more is 413 and no job is created', async () => {
    const exact = csvUpload(csvOfSize(Number(limits.IMPORT_MAX_BYTES)));
    assert.ok(exact.payload.length > Number(limits.IMPORT_MAX_BYTES), 'the body is larger than the file by its framing');
    const accepted = await inject({ method: 'POST', url: '/v1/imports', headers: { ...adminHeaders, ...exact.headers }, payload: exact.payload });
    assert.equal(accepted.statusCode, 202, accepted.body);
    const before = await footprint();
    const over = csvUpload(csvOfSize(Number(limits.IMPORT_MAX_BYTES) + 1));
    assertProblem(await inject({ method: 'POST', url: '/v1/imports', headers: { ...adminHeaders, ...over.headers }, payload: over.payload }), 413, 'body-too-large');
    assert.deepEqual(await footprint(), before);
  });
});

describe('a forged cursor', () => {
  test('when a cursor names a date beyond PostgreSQL\'s range, then 400 naming querystring.cursor on every list', async () => {
    const forged = Buffer.from(JSON.stringify(['+275760-09-13T00:00:00.000Z', 'p'])).toString('base64url');
    const ancient = Buffer.from(JSON.stringify(['-271821-04-20T00:00:00.000Z', 'p'])).toString('base64url');
    await assertRefusedField({ method: 'GET', url: `/v1/products?cursor=${forged}` }, 'querystring', 'cursor');
    await assertRefusedField({ method: 'GET', url: `/v1/products?cursor=${ancient}` }, 'querystring', 'cursor');
    await assertRefusedField({ method: 'GET', url: `/v1/orders?cursor=${forged}`, headers: customer }, 'querystring', 'cursor');
    await assertRefusedField({ method: 'GET', url: `/v1/jobs?cursor=${forged}`, headers: adminHeaders }, 'querystring', 'cursor');
  });

  test('(control) when a cursor names a date a page could start at, then the list answers', async () => {
    const response = await inject({ method: 'GET', url: `/v1/products?cursor=${encodeCursor({ createdAt: new Date(), id: 'p' })}` });
    assert.equal(response.statusCode, 200, response.body);
  });
});

describe('a URL that does not decode', () => {
  test('when the path holds a bad percent-encoding, then 400 malformed-url', async () => {
    await assertRefusedField({ method: 'GET', url: '/v1/products/%zz' }, 'path', '', 'malformed-url');
  });

  test('when the query holds a bad percent-encoding, then 400 malformed-url, also over a socket', async () => {
    await assertRefusedField({ method: 'GET', url: '/v1/products?q=%zz' }, 'querystring', 'q', 'malformed-url');
    await assertRefusedField({ method: 'GET', url: '/v1/orders?cursor=%E0%A4%A', headers: customer }, 'querystring', 'cursor', 'malformed-url');
    assertProblem(await overSocket('GET /v1/products?q=%zz HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n'), 400, 'malformed-url');
  });
});

describe('requests the HTTP parser or the timeouts refuse', () => {
  test('when the headers are too large, then 431 problem+json', async () => {
    const before = await footprint();
    assertProblem(await overSocket(`GET /v1/products HTTP/1.1\r\nhost: localhost\r\nx-padding: ${'a'.repeat(17 * 1024)}\r\n\r\n`), 431, 'headers-too-large');
    assert.deepEqual(await footprint(), before);
  });

  test('when an order\'s body arrives one byte a second, then 408 problem+json past the request timeout and no order is written', async () => {
    const before = await footprint();
    const body = JSON.stringify({ items: [{ sku: 'INPUT-1', quantity: 1 }], payment: { token: 'tok_visa' } });
    const head = [
      'POST /v1/orders HTTP/1.1', 'host: localhost', 'content-type: application/json', `content-length: ${body.length}`,
      `idempotency-key: ${crypto.randomUUID()}`, ...Object.entries(customer).map(([name, value]) => `${name}: ${value}`),
    ].join('\r\n');
    const started = performance.now();
    assertProblem(await overSocket(`${head}\r\n\r\n`, body), 408, 'request-timeout');
    assert.ok(performance.now() - started < 1500 + 2000, 'cut off near the request timeout');
    assert.deepEqual(await footprint(), before);
  });

  test('when the headers arrive one byte a second, then 408 problem+json past the headers timeout', async () => {
    const started = performance.now();
    assertProblem(await overSocket('GET /v1/products HTTP/1.1\r\nhost: local', 'host\r\n\r\n'), 408, 'request-timeout');
    assert.ok(performance.now() - started < 800 + 2000, 'cut off near the headers timeout');
  });
});
