import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
// By its package name, as an integrator imports it (the workspace is linked into node_modules).
import { createClient, OrderStreamProblem, problemTypeBase, unwrap, type OrderStreamClient, type OrderStreamClientOptions } from '@orderstream/client';
import { startFulfilment, type FulfilmentHarness } from './harness/fulfilment-harness.ts';

// The client's promises (refresh, retries after Retry-After, one order per idempotency key, pages,
// typed problems) kept against a real single process on a real port, each made to happen for real by
// the server's configuration; the only stand-in is a fetch that records what goes over the wire (and,
// once, loses an answer the server did send).

interface Sent {
  method: string;
  path: string;
  status: number;
  idempotencyKey: string | null;
  authorization: string | null;
  retryAfter: string | null;
  replayed: string | null;
  /** When the answer arrived. */
  at: number;
}

/** A real fetch that records every request and the status answered. */
function recordingFetch(sent: Sent[]): NonNullable<OrderStreamClientOptions['fetch']> {
  return async (request) => {
    const response = await globalThis.fetch(request);
    sent.push({
      method: request.method, path: new URL(request.url).pathname, status: response.status,
      idempotencyKey: request.headers.get('idempotency-key'), authorization: request.headers.get('authorization'),
      retryAfter: response.headers.get('retry-after'), replayed: response.headers.get('idempotent-replayed'), at: Date.now(),
    });
    return response;
  };
}

interface Running {
  harness: FulfilmentHarness;
  baseUrl: string;
  users: Awaited<ReturnType<FulfilmentHarness['orderstream']['identity']['seedDemoUsers']>>;
}

/** The single process on its own database with `env`, listening on a free port, with the demo users. */
async function startServer(env: Record<string, string>): Promise<Running> {
  const harness = await startFulfilment({ DEV_IDENTITY_HEADERS: 'false', ...env }, { registerWebhook: false });
  const baseUrl = await harness.orderstream.app.listen({ host: '127.0.0.1', port: 0 });
  return { harness, baseUrl, users: await harness.orderstream.identity.seedDemoUsers() };
}

async function signedIn(running: Running, who: 'admin' | 'customer', options: Partial<OrderStreamClientOptions> = {}): Promise<OrderStreamClient> {
  const client = createClient({ baseUrl: running.baseUrl, ...options });
  await client.signIn(running.users[who].email, running.users[who].password);
  return client;
}

/** Creates a product with stock through the API, as an admin. */
async function stock(admin: OrderStreamClient, sku: string, onHand: number): Promise<void> {
  const created = await admin.api.POST('/v1/products', { body: { sku, name: `Product ${sku}`, description: '', price: { amount: 500, currency: 'EUR' } } });
  assert.equal(created.response.status, 201);
  const stocked = await admin.api.PUT('/v1/inventory/{sku}', { params: { path: { sku } }, body: { onHand } });
  assert.equal(stocked.response.status, 200);
}

async function orderIds(client: OrderStreamClient): Promise<string[]> {
  const ids: string[] = [];
  for await (const order of client.orders()) ids.push(order.id);
  return ids;
}

const items = [{ sku: 'BEHAVE-MUG', quantity: 1 }];

describe('the client against a single process issuing 30 s access tokens', () => {
  let running: Running;
  let customer: OrderStreamClient;
  before(async () => {
    running = await startServer({ ACCESS_TOKEN_TTL_SECONDS: '30' });
    await stock(await signedIn(running, 'admin'), 'BEHAVE-MUG', 1000);
    customer = await signedIn(running, 'customer');
  });
  after(async () => { await running.harness.close(); });

  test('when a call is made past the access token\'s refresh margin, then the client refreshes once and the call succeeds with the new token', async () => {
    const sent: Sent[] = [];
    const client = await signedIn(running, 'customer', { fetch: recordingFetch(sent) });
    await orderIds(client);
    const firstToken = sent.at(-1)?.authorization;
    assert.ok(sent.every((each) => each.path !== '/v1/auth/refresh'), 'a fresh token is not refreshed');
    // A 30 s token is refreshed half way through its life (the margin is at most half the lifetime).
    await sleep(15_500);
    await orderIds(client);
    assert.deepEqual(sent.filter((each) => each.path === '/v1/auth/refresh').map((each) => each.status), [200]);
    const last = sent.at(-1);
    assert.equal(last?.path, '/v1/orders');
    assert.equal(last.status, 200);
    assert.ok(last.authorization !== null && last.authorization !== firstToken, 'the call after the refresh carries the new access token');
  });

  test('when the answer to placeOrder is lost after the server placed it, then the retry sends the same key and one order exists', async () => {
    const sent: Sent[] = [];
    const record = recordingFetch(sent);
    let cut = false;
    const client = await signedIn(running, 'customer', {
      fetch: async (request) => {
        const response = await record(request);
        if (cut || request.method !== 'POST' || new URL(request.url).pathname !== '/v1/orders') return response;
        cut = true;
        await response.body?.cancel();
        throw new TypeError('fetch failed: the connection was cut before the answer arrived');
      },
    });
    const existing = await orderIds(client);
    const { order, idempotencyKey } = await client.placeOrder({ items, payment: { token: 'tok_visa' } });
    const posts = sent.filter((each) => each.path === '/v1/orders' && each.method === 'POST');
    assert.deepEqual(posts.map((each) => each.status), [202, 202], 'the server answered both tries');
    assert.deepEqual(posts.map((each) => each.idempotencyKey), [idempotencyKey, idempotencyKey]);
    assert.equal(posts[1]?.replayed, 'true', 'the retry replayed the first try\'s order');
    const now = await orderIds(client);
    assert.equal(now.length, existing.length + 1);
    assert.equal(now.filter((id) => id === order.id).length, 1);
  });

  test('when there are more orders than one page, then the async iterator yields each of them exactly once across pages', async () => {
    const sent: Sent[] = [];
    const client = await signedIn(running, 'customer', { fetch: recordingFetch(sent) });
    const placed = new Set<string>();
    for (let count = 0; count < 5; count += 1) placed.add((await client.placeOrder({ items, payment: { token: 'tok_visa' } })).order.id);
    const all = await orderIds(customer);
    sent.length = 0;
    const paged: string[] = [];
    for await (const order of client.orders({ limit: 2 })) paged.push(order.id);
    assert.deepEqual(paged, all, 'every order, in the order one unpaged read gives them');
    assert.equal(new Set(paged).size, paged.length, 'no order twice');
    assert.ok([...placed].every((id) => paged.includes(id)));
    assert.ok(sent.filter((each) => each.path === '/v1/orders').length >= Math.ceil(all.length / 2), 'read two orders a page');
  });

  test('when the server refuses a bad request, then an OrderStreamProblem carries its type, status, detail, request id and field errors', async () => {
    const error = await customer.placeOrder({ items: [{ sku: 'BEHAVE-MUG', quantity: 0 }], payment: { token: 'tok_visa' } }).catch((caught: unknown) => caught);
    assert.ok(error instanceof OrderStreamProblem, String(error));
    assert.equal(error.type, `${problemTypeBase}validation-error`);
    assert.equal(error.slug, 'validation-error');
    assert.equal(error.status, 400);
    assert.ok(error.detail !== undefined && error.detail !== '');
    assert.ok(error.requestId !== undefined && error.requestId !== '');
    assert.ok(error.errors.some((fault) => fault.field.includes('quantity')), JSON.stringify(error.errors));
  });
});

describe('the client against a single process allowing one request a second', () => {
  let running: Running;
  before(async () => { running = await startServer({ RATE_LIMIT_BURST: '1', RATE_LIMIT_PER_SECOND: '1' }); });
  after(async () => { await running.harness.close(); });

  test('when a GET gets 429 with Retry-After, then the client waits that long, tries again and the call succeeds', async () => {
    const sent: Sent[] = [];
    const client = await signedIn(running, 'customer', { fetch: recordingFetch(sent) });
    await orderIds(client);
    await orderIds(client);
    const reads = sent.filter((each) => each.path === '/v1/orders');
    assert.deepEqual(reads.map((each) => each.status), [200, 429, 200]);
    const [, limited, retried] = reads;
    assert.equal(limited?.retryAfter, '1');
    // The retry's answer came after the wait, so at least the Retry-After after the 429's answer.
    assert.ok(retried !== undefined && retried.at - limited.at >= 1000, 'the client waited for Retry-After');
  });

  test('when a POST without an Idempotency-Key gets 429, then it is not retried and the problem is thrown with its Retry-After', async () => {
    const sent: Sent[] = [];
    const admin = await signedIn(running, 'admin', { fetch: recordingFetch(sent) });
    await sleep(1100);
    await admin.api.GET('/v1/products');
    const error = await unwrap(admin.api.POST('/v1/products', { body: { sku: 'BEHAVE-LIMITED', name: 'Limited', description: '', price: { amount: 100, currency: 'EUR' } } }))
      .catch((caught: unknown) => caught);
    assert.ok(error instanceof OrderStreamProblem);
    assert.equal(error.status, 429);
    assert.equal(error.slug, 'rate-limited');
    assert.equal(error.retryAfter, '1');
    assert.deepEqual(sent.filter((each) => each.path === '/v1/products' && each.method === 'POST').map((each) => each.status), [429]);
  });
});

describe('the client against a single process admitting one unfinished order', () => {
  let running: Running;
  before(async () => {
    running = await startServer({ ORDER_BACKLOG_LIMIT: '1', SIMULATED_PAYMENT_DELAY_MS: '1500' });
    await stock(await signedIn(running, 'admin'), 'BEHAVE-MUG', 100);
  });
  after(async () => { await running.harness.close(); });

  test('when placeOrder gets 503 with Retry-After while the backlog is full, then it retries with the same key until admitted and one order is placed', async () => {
    const sent: Sent[] = [];
    const client = await signedIn(running, 'customer', { fetch: recordingFetch(sent), retry: { attempts: 20 } });
    // tok_slow holds the first order's saga at payment for SIMULATED_PAYMENT_DELAY_MS, keeping the backlog full.
    const first = await client.placeOrder({ items, payment: { token: 'tok_slow' } });
    sent.length = 0;
    const second = await client.placeOrder({ items, payment: { token: 'tok_visa' } });
    const posts = sent.filter((each) => each.path === '/v1/orders' && each.method === 'POST');
    assert.equal(posts[0]?.status, 503, 'the first try met the full backlog');
    assert.equal(posts[0].retryAfter, '1');
    assert.equal(posts.at(-1)?.status, 202);
    assert.ok(posts.every((each) => each.idempotencyKey === second.idempotencyKey));
    assert.deepEqual((await orderIds(client)).sort(), [first.order.id, second.order.id].sort());
  });
});
