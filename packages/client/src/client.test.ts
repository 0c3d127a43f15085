import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createOrderStreamClient } from './client.ts';
import { OrderStreamProblem, WaitTimeoutError } from './errors.ts';
import { fakeFetch, json, problem, type SeenRequest } from './fake-fetch.ts';

const baseUrl = 'http://orderstream.test';
const noWait = { sleep: () => Promise.resolve() };
const anOrder = { items: [{ sku: 'MUG-BLUE', quantity: 1 }], payment: { token: 'tok_visa' } };

function order(id: string, status: string) {
  return { id, status, customerId: 'cus_1', lines: [], total: { amount: 0, currency: 'EUR' }, createdAt: '2026-01-01T00:00:00.000Z' };
}

/** A token pair whose access token is a JWT-shaped string naming `name` and expiring in `expiresIn` s. */
function pair(name: string, expiresIn = 900) {
  const payload = btoa(JSON.stringify({ sub: name, exp: Math.floor(Date.now() / 1000) + expiresIn })).replaceAll('=', '');
  return { accessToken: `e30.${payload}.sig-${name}`, tokenType: 'Bearer', expiresIn, refreshToken: `refresh-${name}` };
}

describe('placeOrder', () => {
  test('when the first tries meet 503, then every try carries the same generated Idempotency-Key and the order is answered with it', async () => {
    const server = fakeFetch((_, index) => (index < 2 ? problem(503, 'overloaded', {}, { 'retry-after': '0' }) : json(202, order('ord_1', 'PENDING'))));
    const client = createOrderStreamClient({ baseUrl, fetch: server.fetch, retry: noWait });
    const placed = await client.placeOrder(anOrder);
    assert.equal(placed.order.id, 'ord_1');
    const keys = server.seen.map((seen) => seen.headers.get('idempotency-key'));
    assert.equal(keys.length, 3);
    assert.ok(keys.every((key) => key === placed.idempotencyKey && key.length >= 32), keys.join(', '));
    assert.deepEqual(JSON.parse(server.seen[2]!.body), anOrder);
  });

  test('when two orders are placed, then each has its own key; when the caller names one, then it is used', async () => {
    const server = fakeFetch(() => json(202, order('ord_1', 'PENDING')));
    const client = createOrderStreamClient({ baseUrl, fetch: server.fetch });
    const first = await client.placeOrder(anOrder);
    const second = await client.placeOrder(anOrder);
    const named = await client.placeOrder(anOrder, { idempotencyKey: 'mine-1' });
    assert.notEqual(first.idempotencyKey, second.idempotencyKey);
    assert.equal(named.idempotencyKey, 'mine-1');
    assert.equal(server.seen[2]!.headers.get('idempotency-key'), 'mine-1');
  });
});

describe('errors', () => {
  test('when the API answers a problem, then an OrderStreamProblem carries its type, status, detail, request id and field errors', async () => {
    const server = fakeFetch(() => problem(400, 'validation-error', {
      detail: 'items must not be empty', requestId: 'req-42', errors: [{ location: 'body', field: 'items', message: 'must not be empty' }],
    }));
    const client = createOrderStreamClient({ baseUrl, fetch: server.fetch });
    const error = await client.placeOrder({ items: [], payment: { token: 'tok_visa' } }).catch((caught: unknown) => caught);
    assert.ok(error instanceof OrderStreamProblem);
    assert.ok(error instanceof Error);
    assert.equal(error.type, 'https://orderstream.dev/problems/validation-error');
    assert.equal(error.slug, 'validation-error');
    assert.equal(error.status, 400);
    assert.equal(error.detail, 'items must not be empty');
    assert.equal(error.requestId, 'req-42');
    assert.deepEqual(error.errors, [{ location: 'body', field: 'items', message: 'must not be empty' }]);
  });

  test('when the answer is not a problem (a proxy page), then the problem is about:blank with the status and the request id header', async () => {
    const server = fakeFetch(() => new Response('<html>Bad gateway</html>', { status: 502, statusText: 'Bad Gateway', headers: { 'x-request-id': 'req-7' } }));
    const client = createOrderStreamClient({ baseUrl, fetch: server.fetch });
    const error = await client.getOrder('ord_1').catch((caught: unknown) => caught);
    assert.ok(error instanceof OrderStreamProblem);
    assert.equal(error.type, 'about:blank');
    assert.equal(error.status, 502);
    assert.equal(error.requestId, 'req-7');
    assert.deepEqual(error.errors, []);
  });
});

describe('cursor pages', () => {
  test('when the list spans three pages, then iterating yields every item once, following nextCursor until null', async () => {
    const answers: Record<string, unknown> = {
      '/v1/orders?limit=2': { items: [order('o1', 'CONFIRMED'), order('o2', 'CONFIRMED')], nextCursor: 'c1' },
      '/v1/orders?cursor=c1&limit=2': { items: [order('o3', 'CONFIRMED'), order('o4', 'CANCELLED')], nextCursor: 'c2' },
      '/v1/orders?cursor=c2&limit=2': { items: [order('o5', 'PENDING')], nextCursor: null },
    };
    const server = fakeFetch((seen) => (seen.path in answers ? json(200, answers[seen.path]) : problem(404, 'not-found')));
    const client = createOrderStreamClient({ baseUrl, fetch: server.fetch });
    const ids: string[] = [];
    for await (const each of client.orders({ limit: 2 })) ids.push(each.id);
    assert.deepEqual(ids, ['o1', 'o2', 'o3', 'o4', 'o5']);
    assert.equal(server.seen.length, 3);
  });

  test('when the caller stops early, then no further page is fetched', async () => {
    const server = fakeFetch(() => json(200, { items: [order('o1', 'CONFIRMED'), order('o2', 'CONFIRMED')], nextCursor: 'more' }));
    const client = createOrderStreamClient({ baseUrl, fetch: server.fetch });
    for await (const each of client.orders()) if (each.id === 'o1') break;
    assert.equal(server.seen.length, 1);
  });
});

describe('sign-in and refresh', () => {
  function identityServer() {
    let issued = 0;
    return fakeFetch((seen: SeenRequest) => {
      if (seen.path === '/v1/auth/login') return json(200, pair('first'));
      if (seen.path === '/v1/auth/refresh') {
        issued += 1;
        return (JSON.parse(seen.body) as { refreshToken: string }).refreshToken === (issued === 1 ? 'refresh-first' : `refresh-second-${issued - 1}`)
          ? json(200, pair(`second-${issued}`))
          : problem(401, 'invalid-refresh-token');
      }
      return json(200, order('ord_1', 'CONFIRMED'));
    });
  }

  test('when the access token is far from expiry, then calls carry it and nothing is refreshed', async () => {
    const server = identityServer();
    const client = createOrderStreamClient({ baseUrl, fetch: server.fetch });
    await client.signIn('ada@example.com', 'correct horse battery');
    await client.getOrder('ord_1');
    assert.deepEqual(server.seen.map((seen) => seen.path), ['/v1/auth/login', '/v1/orders/ord_1']);
    assert.match(server.seen[1]!.headers.get('authorization') ?? '', /^Bearer e30\..+\.sig-first$/);
    assert.equal(server.seen[0]!.headers.get('authorization'), null, 'sign-in carries no bearer token');
  });

  test('when the access token is within the margin of its expiry, then one refresh serves all calls at that moment and they carry the new token', async () => {
    let now = 1_000_000;
    const server = identityServer();
    const client = createOrderStreamClient({ baseUrl, fetch: server.fetch, now: () => now, refreshMarginMs: 30_000 });
    await client.signIn('ada@example.com', 'correct horse battery');
    now += 880_000; // 20 s before the 900 s token expires
    await Promise.all([client.getOrder('ord_1'), client.getOrder('ord_1'), client.getOrder('ord_1')]);
    const paths = server.seen.map((seen) => seen.path);
    assert.equal(paths.filter((path) => path === '/v1/auth/refresh').length, 1);
    const bearers = server.seen.filter((seen) => seen.path === '/v1/orders/ord_1').map((seen) => seen.headers.get('authorization') ?? '');
    assert.equal(bearers.length, 3);
    assert.ok(bearers.every((bearer) => bearer.endsWith('.sig-second-1')), bearers.join(', '));
  });

  test('when the refresh token is refused, then the problem is thrown and the session is signed out', async () => {
    let now = 0;
    const server = fakeFetch((seen) => (seen.path === '/v1/auth/login' ? json(200, pair('first', 60)) : problem(401, 'invalid-refresh-token')));
    const client = createOrderStreamClient({ baseUrl, fetch: server.fetch, now: () => now });
    await client.signIn('ada@example.com', 'correct horse battery');
    now += 59_000;
    await assert.rejects(client.getOrder('ord_1'), (error: unknown) => error instanceof OrderStreamProblem && error.status === 401);
    assert.equal(client.session.signedIn, false);
  });
});

describe('waitForOrder', () => {
  test('when the order goes PENDING, RESERVED, CONFIRMED, then waiting for terminal answers it CONFIRMED', async () => {
    const statuses = ['PENDING', 'RESERVED', 'CONFIRMED'];
    const server = fakeFetch((_, index) => json(200, order('ord_1', statuses[Math.min(index, 2)]!)));
    const client = createOrderStreamClient({ baseUrl, fetch: server.fetch });
    const done = await client.waitForOrder('ord_1', { until: 'terminal', intervalMs: 1 });
    assert.equal(done.status, 'CONFIRMED');
    assert.equal(server.seen.length, 3);
  });

  test('when the order never leaves PENDING, then a WaitTimeoutError carries the last read', async () => {
    const server = fakeFetch(() => json(200, order('ord_1', 'PENDING')));
    const client = createOrderStreamClient({ baseUrl, fetch: server.fetch });
    const error = await client.waitForOrder('ord_1', { timeoutMs: 30, intervalMs: 5 }).catch((caught: unknown) => caught);
    assert.ok(error instanceof WaitTimeoutError);
    assert.equal((error.last as { status: string }).status, 'PENDING');
  });
});
