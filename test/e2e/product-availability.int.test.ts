import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  adminHeaders, customerHeaders, eventually, placeOrder, startFulfilment, waitForTerminal, type FulfilmentHarness,
} from './harness/fulfilment-harness.ts';

let harness: FulfilmentHarness;

before(async () => {
  // Products stay cached far longer than the test: availability can only follow through the
  // catalog's consumer of inventory's announcements, never through a cache entry expiring.
  harness = await startFulfilment({ LOW_STOCK_THRESHOLD: '5', CATALOG_READ_CACHE_SECONDS: '3600' }, { registerWebhook: false });
});
after(async () => { await harness.close(); });

interface Availability { status: string; available?: number }

async function availabilityOf(productId: string, headers: Record<string, string>): Promise<Availability> {
  const response = await harness.orderstream.app.inject({ method: 'GET', url: `/v1/products/${productId}`, headers });
  assert.equal(response.statusCode, 200, response.body);
  return response.json<{ availability: Availability }>().availability;
}

/** Waits until an admin reads `available` units, then checks that customers read `status` alone and the admin both. */
async function availabilityBecomes(productId: string, status: string, available: number): Promise<void> {
  await eventually(async () => (await availabilityOf(productId, adminHeaders)).available === available, `${String(available)} available`);
  assert.deepEqual(await availabilityOf(productId, adminHeaders), { status, available });
  assert.deepEqual(await availabilityOf(productId, customerHeaders('cus_browsing')), { status });
  assert.deepEqual(await availabilityOf(productId, {}), { status });
}

async function ordered(customerId: string, sku: string, quantity: number): Promise<string> {
  const response = await placeOrder(harness.orderstream, customerId, [{ sku, quantity }]);
  assert.equal(response.statusCode, 202, response.body);
  const orderId = response.json<{ id: string }>().id;
  await waitForTerminal(harness.db, [orderId]);
  return orderId;
}

async function cancelled(orderId: string, customerId: string): Promise<void> {
  const response = await harness.orderstream.app.inject({ method: 'POST', url: `/v1/orders/${orderId}/cancel`, headers: customerHeaders(customerId) });
  assert.equal(response.statusCode, 202, response.body);
  await waitForTerminal(harness.db, [orderId]);
}

describe('availability of product reads in one process', () => {
  test('when stock is set and orders are placed and cancelled, then customers read the status follow, and admins the quantity too', async () => {
    const created = await harness.orderstream.app.inject({
      method: 'POST', url: '/v1/products', headers: adminHeaders, payload: { sku: 'AVAIL-MUG', name: 'Availability mug', price: { amount: 1200, currency: 'EUR' } },
    });
    assert.equal(created.statusCode, 201, created.body);
    const productId = created.json<{ id: string }>().id;
    assert.deepEqual(await availabilityOf(productId, customerHeaders('cus_browsing')), { status: 'out-of-stock' });
    assert.deepEqual(await availabilityOf(productId, adminHeaders), { status: 'out-of-stock', available: 0 });

    const stocked = await harness.orderstream.app.inject({ method: 'PUT', url: '/v1/inventory/AVAIL-MUG', headers: adminHeaders, payload: { onHand: 6 } });
    assert.equal(stocked.statusCode, 200, stocked.body);
    await availabilityBecomes(productId, 'in-stock', 6);

    const small = await ordered('cus_avail_1', 'AVAIL-MUG', 2);
    await availabilityBecomes(productId, 'low', 4);

    const rest = await ordered('cus_avail_2', 'AVAIL-MUG', 4);
    await availabilityBecomes(productId, 'out-of-stock', 0);
    const listed = await harness.orderstream.app.inject({ method: 'GET', url: '/v1/products?q=availability%20mug' });
    assert.deepEqual(listed.json<{ items: { availability: Availability }[] }>().items.map((item) => item.availability), [{ status: 'out-of-stock' }]);

    await cancelled(rest, 'cus_avail_2');
    await availabilityBecomes(productId, 'low', 4);

    await cancelled(small, 'cus_avail_1');
    await availabilityBecomes(productId, 'in-stock', 6);
  });
});
