import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { customerHeaders, placeOrder, startFulfilment, stockOf, stockProduct, waitForTerminal, type FulfilmentHarness } from './harness/fulfilment-harness.ts';

let harness: FulfilmentHarness;
before(async () => {
  harness = await startFulfilment();
  await stockProduct(harness.orderstream, 'API-1', 100, 500);
  await stockProduct(harness.orderstream, 'API-2', 100, 700);
  // Touched only by refused orders, so its stock must never move.
  await stockProduct(harness.orderstream, 'BAD-1', 100, 300);
});
after(async () => { await harness.close(); });

const orderCount = async () => (await sql<{ count: number }>`select count(*)::int as count from orders.orders`.execute(harness.db)).rows[0]?.count;

describe('POST /v1/orders idempotency', () => {
  test('when the same key and body are sent again, then the first response is replayed and one order exists', async () => {
    const key = crypto.randomUUID();
    const first = await placeOrder(harness.orderstream, 'cus_idem', [{ sku: 'API-1', quantity: 1 }], 'tok_visa', key);
    const before = await orderCount();
    const second = await placeOrder(harness.orderstream, 'cus_idem', [{ sku: 'API-1', quantity: 1 }], 'tok_visa', key);
    assert.equal(second.statusCode, 202);
    assert.deepEqual(second.json(), first.json());
    assert.equal(second.headers['idempotent-replayed'], 'true');
    assert.equal(await orderCount(), before);
  });

  test('when the same key comes with a different body, then 422 and nothing is placed', async () => {
    const key = crypto.randomUUID();
    await placeOrder(harness.orderstream, 'cus_idem2', [{ sku: 'API-1', quantity: 1 }], 'tok_visa', key);
    const before = await orderCount();
    const other = await placeOrder(harness.orderstream, 'cus_idem2', [{ sku: 'API-1', quantity: 2 }], 'tok_visa', key);
    assert.equal(other.statusCode, 422);
    assert.equal(other.json<{ type: string }>().type, 'https://orderstream.dev/problems/idempotency-key-reused');
    assert.equal(await orderCount(), before);
  });

  test('when another customer uses the same key, then it is a different request (keys are per customer)', async () => {
    const key = crypto.randomUUID();
    const mine = await placeOrder(harness.orderstream, 'cus_a', [{ sku: 'API-1', quantity: 1 }], 'tok_visa', key);
    const theirs = await placeOrder(harness.orderstream, 'cus_b', [{ sku: 'API-1', quantity: 1 }], 'tok_visa', key);
    assert.equal(theirs.statusCode, 202);
    assert.notEqual(theirs.json<{ id: string }>().id, mine.json<{ id: string }>().id);
  });

  test('when two identical requests arrive at once, then one order is placed and the other is replayed or told 409', async () => {
    const key = crypto.randomUUID();
    const before = await orderCount();
    const [a, b] = await Promise.all([
      placeOrder(harness.orderstream, 'cus_race', [{ sku: 'API-2', quantity: 1 }], 'tok_visa', key),
      placeOrder(harness.orderstream, 'cus_race', [{ sku: 'API-2', quantity: 1 }], 'tok_visa', key),
    ]);
    const statuses = [a.statusCode, b.statusCode].sort();
    assert.ok(statuses[0] === 202 && (statuses[1] === 202 || statuses[1] === 409), `got ${statuses.join(', ')}`);
    if (statuses[1] === 202) assert.deepEqual(a.json(), b.json());
    assert.equal(await orderCount(), (before ?? 0) + 1);
  });

  test('when the key has expired, then it can be used for a new order', async () => {
    const key = crypto.randomUUID();
    const first = await placeOrder(harness.orderstream, 'cus_expired', [{ sku: 'API-1', quantity: 1 }], 'tok_visa', key);
    await sql`update orders.idempotency_keys set expires_at = now() - interval '1 second' where key = ${key}`.execute(harness.db);
    const second = await placeOrder(harness.orderstream, 'cus_expired', [{ sku: 'API-1', quantity: 1 }], 'tok_visa', key);
    assert.equal(second.statusCode, 202);
    assert.notEqual(second.json<{ id: string }>().id, first.json<{ id: string }>().id);
  });
});

describe('POST /v1/orders bad input', () => {
  const cases: { when: string; payload: unknown; status: number; headers?: Record<string, string> }[] = [
    { when: 'an unknown SKU', payload: { items: [{ sku: 'NOPE-404', quantity: 1 }], payment: { token: 'tok_visa' } }, status: 422 },
    { when: 'a zero quantity', payload: { items: [{ sku: 'BAD-1', quantity: 0 }], payment: { token: 'tok_visa' } }, status: 400 },
    { when: 'a negative quantity', payload: { items: [{ sku: 'BAD-1', quantity: -3 }], payment: { token: 'tok_visa' } }, status: 400 },
    { when: 'a huge quantity', payload: { items: [{ sku: 'BAD-1', quantity: 1e12 }], payment: { token: 'tok_visa' } }, status: 400 },
    { when: 'a duplicate SKU', payload: { items: [{ sku: 'BAD-1', quantity: 1 }, { sku: 'bad-1', quantity: 2 }], payment: { token: 'tok_visa' } }, status: 400 },
    { when: 'no items', payload: { items: [], payment: { token: 'tok_visa' } }, status: 400 },
    { when: 'no payment', payload: { items: [{ sku: 'BAD-1', quantity: 1 }] }, status: 400 },
    { when: 'a malformed payment token', payload: { items: [{ sku: 'BAD-1', quantity: 1 }], payment: { token: 'visa card' } }, status: 400 },
  ];
  for (const { when, payload, status } of cases) {
    test(`when the order has ${when}, then ${status} problem+json and no state changes`, async () => {
      const before = await orderCount();
      const stock = await stockOf(harness.orderstream, 'BAD-1');
      const response = await harness.orderstream.app.inject({
        method: 'POST', url: '/v1/orders', headers: { ...customerHeaders('cus_bad'), 'idempotency-key': crypto.randomUUID() }, payload: payload as Record<string, unknown>,
      });
      assert.equal(response.statusCode, status, response.body);
      assert.match(response.headers['content-type'] ?? '', /^application\/problem\+json/);
      assert.equal(await orderCount(), before);
      assert.deepEqual(await stockOf(harness.orderstream, 'BAD-1'), stock);
    });
  }

  test('when the Idempotency-Key header is missing, then 400 naming it', async () => {
    const response = await harness.orderstream.app.inject({ method: 'POST', url: '/v1/orders', headers: customerHeaders('cus_bad'), payload: { items: [{ sku: 'BAD-1', quantity: 1 }], payment: { token: 'tok_visa' } } });
    assert.equal(response.statusCode, 400);
    assert.ok(response.json<{ errors: { field: string }[] }>().errors.some((error) => error.field === 'idempotency-key'));
  });

  test('when no identity is presented, then 401 problem+json', async () => {
    const response = await harness.orderstream.app.inject({ method: 'POST', url: '/v1/orders', headers: { 'idempotency-key': 'k-1' }, payload: { items: [{ sku: 'BAD-1', quantity: 1 }], payment: { token: 'tok_visa' } } });
    assert.equal(response.statusCode, 401);
  });
});

describe('reading and cancelling orders', () => {
  test('when the owner reads an order, then it is there; when someone else does, then 404; an admin may', async () => {
    const placed = (await placeOrder(harness.orderstream, 'cus_owner', [{ sku: 'API-1', quantity: 1 }])).json<{ id: string }>();
    assert.equal((await harness.orderstream.app.inject({ method: 'GET', url: `/v1/orders/${placed.id}`, headers: customerHeaders('cus_owner') })).statusCode, 200);
    assert.equal((await harness.orderstream.app.inject({ method: 'GET', url: `/v1/orders/${placed.id}`, headers: customerHeaders('cus_other') })).statusCode, 404);
    assert.equal((await harness.orderstream.app.inject({ method: 'GET', url: `/v1/orders/${placed.id}`, headers: { 'x-dev-customer-id': 'boss', 'x-dev-roles': 'admin' } })).statusCode, 200);
    assert.equal((await harness.orderstream.app.inject({ method: 'GET', url: '/v1/orders/ord_missing', headers: customerHeaders('cus_owner') })).statusCode, 404);
  });

  test('when listing, then only the caller\'s orders come back, newest first, across cursor pages', async () => {
    const ids = [];
    for (let index = 0; index < 3; index += 1) ids.push((await placeOrder(harness.orderstream, 'cus_lister', [{ sku: 'API-2', quantity: 1 }])).json<{ id: string }>().id);
    const first = (await harness.orderstream.app.inject({ method: 'GET', url: '/v1/orders?limit=2', headers: customerHeaders('cus_lister') })).json<{ items: { id: string }[]; nextCursor: string }>();
    const second = (await harness.orderstream.app.inject({ method: 'GET', url: `/v1/orders?limit=2&cursor=${first.nextCursor}`, headers: customerHeaders('cus_lister') })).json<{ items: { id: string }[]; nextCursor: string | null }>();
    assert.deepEqual([...first.items, ...second.items].map((item) => item.id), [...ids].reverse());
    assert.equal(second.nextCursor, null);
    assert.equal((await harness.orderstream.app.inject({ method: 'GET', url: '/v1/orders?cursor=garbage', headers: customerHeaders('cus_lister') })).statusCode, 400);
  });

  test('when a cancelled order is cancelled again or someone else cancels, then 409 / 404 and nothing changes', async () => {
    const placed = (await placeOrder(harness.orderstream, 'cus_cancel', [{ sku: 'NOPE-GONE', quantity: 1 }]));
    assert.equal(placed.statusCode, 422);
    const id = (await placeOrder(harness.orderstream, 'cus_cancel', [{ sku: 'API-1', quantity: 1 }], 'tok_declined')).json<{ id: string }>().id;
    await waitForTerminal(harness.db, [id]);
    const again = await harness.orderstream.app.inject({ method: 'POST', url: `/v1/orders/${id}/cancel`, headers: customerHeaders('cus_cancel') });
    assert.equal(again.statusCode, 409);
    const stranger = await harness.orderstream.app.inject({ method: 'POST', url: `/v1/orders/${id}/cancel`, headers: customerHeaders('cus_stranger') });
    assert.equal(stranger.statusCode, 404);
  });
});
