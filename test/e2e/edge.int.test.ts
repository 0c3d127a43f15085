import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { startFulfilment, waitForTerminal, type FulfilmentHarness } from './harness/fulfilment-harness.ts';

let harness: FulfilmentHarness;
let adminToken: string;

before(async () => {
  // Real tokens only: no development identity headers, and a small burst to reach the rate limit.
  harness = await startFulfilment({ DEV_IDENTITY_HEADERS: 'false', RATE_LIMIT_BURST: '40', RATE_LIMIT_PER_SECOND: '0.1' }, { registerWebhook: false });
  const { admin } = await harness.orderstream.identity.seedDemoUsers();
  adminToken = (await login(admin.email, admin.password)).accessToken;
  const asAdmin = { authorization: `Bearer ${adminToken}` };
  assert.equal((await harness.orderstream.app.inject({ method: 'POST', url: '/v1/products', headers: asAdmin, payload: { sku: 'EDGE-1', name: 'Edge', price: { amount: 100, currency: 'EUR' } } })).statusCode, 201);
  assert.equal((await harness.orderstream.app.inject({ method: 'PUT', url: '/v1/inventory/EDGE-1', headers: asAdmin, payload: { onHand: 10 } })).statusCode, 200);
});
after(async () => { await harness.close(); });

async function login(email: string, password: string): Promise<{ accessToken: string }> {
  const response = await harness.orderstream.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password } });
  assert.equal(response.statusCode, 200, response.body);
  return response.json();
}

const orderCount = async () => (await sql<{ count: number }>`select count(*)::int as count from orders.orders`.execute(harness.db)).rows[0]?.count;

function placeWith(headers: Record<string, string>) {
  return harness.orderstream.app.inject({
    method: 'POST', url: '/v1/orders', headers: { 'idempotency-key': crypto.randomUUID(), ...headers },
    payload: { items: [{ sku: 'EDGE-1', quantity: 1 }], payment: { token: 'tok_visa' } },
  });
}

describe('the edge in front of the single process', () => {
  test('when a customer registers, signs in and orders with the token, then the order is placed for them and confirmed', async () => {
    const registered = await harness.orderstream.app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email: 'Grace@Example.com', password: 'a long enough passphrase' } });
    assert.equal(registered.statusCode, 202, registered.body);
    const { accessToken } = await login('grace@example.com', 'a long enough passphrase');
    const placed = await placeWith({ authorization: `Bearer ${accessToken}` });
    assert.equal(placed.statusCode, 202, placed.body);
    const order = placed.json<{ id: string; customerId: string }>();
    assert.equal(order.customerId, (JSON.parse(Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub: string }).sub);
    assert.equal((await waitForTerminal(harness.db, [order.id])).get(order.id)?.status, 'CONFIRMED');
  });

  const refused: [string, Record<string, string>, number][] = [
    ['no token', {}, 401],
    ['a forged token', { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' }, 401],
    ['development headers, which are off', { 'x-dev-customer-id': 'mallory', 'x-dev-roles': 'admin' }, 401],
  ];
  for (const [what, headers, status] of refused) {
    test(`when an order comes with ${what}, then ${status} and no order is written`, async () => {
      const before = await orderCount();
      const response = await placeWith(headers);
      assert.equal(response.statusCode, status, response.body);
      assert.equal(await orderCount(), before);
    });
  }

  test('when a customer calls an admin route, then 403 and nothing changes', async () => {
    const { customer } = await harness.orderstream.identity.seedDemoUsers();
    const { accessToken } = await login(customer.email, customer.password);
    const response = await harness.orderstream.app.inject({ method: 'PUT', url: '/v1/inventory/EDGE-1', headers: { authorization: `Bearer ${accessToken}` }, payload: { onHand: 0 } });
    assert.equal(response.statusCode, 403);
    const stock = await harness.orderstream.app.inject({ method: 'GET', url: '/v1/inventory/EDGE-1', headers: { authorization: `Bearer ${adminToken}` } });
    assert.ok(stock.json<{ onHand: number }>().onHand > 0);
  });

  test('when one client sends more than its burst, then it gets 429 with Retry-After', async () => {
    let limited;
    for (let index = 0; index < 60 && limited === undefined; index += 1) {
      const response = await harness.orderstream.app.inject({ method: 'GET', url: '/v1/products' });
      if (response.statusCode === 429) limited = response;
    }
    assert.ok(limited, 'no request was limited');
    assert.ok(Number(limited.headers['retry-after']) >= 1);
  });
});
