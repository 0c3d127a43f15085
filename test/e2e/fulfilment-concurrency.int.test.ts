import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AddressInfo } from 'node:net';
import { customerHeaders, startFulfilment, stockOf, stockProduct, waitForTerminal, type FulfilmentHarness } from './harness/fulfilment-harness.ts';

let harness: FulfilmentHarness;
let baseUrl: string;

before(async () => {
  harness = await startFulfilment({ DATABASE_POOL_SIZE: '20' });
  await harness.orderstream.app.listen({ host: '127.0.0.1', port: 0 });
  baseUrl = `http://127.0.0.1:${(harness.orderstream.app.server.address() as AddressInfo).port}`;
});
after(async () => { await harness.close(); });

/** POSTs orders over real HTTP, all at once; returns the accepted order ids. */
async function placeConcurrently(orders: { customerId: string; items: { sku: string; quantity: number }[] }[]): Promise<string[]> {
  const responses = await Promise.all(orders.map(async ({ customerId, items }) => {
    const response = await fetch(`${baseUrl}/v1/orders`, {
      method: 'POST',
      headers: { ...customerHeaders(customerId), 'idempotency-key': crypto.randomUUID(), 'content-type': 'application/json' },
      body: JSON.stringify({ items, payment: { token: 'tok_visa' } }),
    });
    assert.equal(response.status, 202, await response.clone().text());
    return ((await response.json()) as { id: string }).id;
  }));
  return responses;
}

describe('stock under concurrency', () => {
  test('when 200 single-unit orders race for 50 units over HTTP, then exactly 50 are CONFIRMED, 150 CANCELLED for stock, and nothing stays reserved', async () => {
    await stockProduct(harness.orderstream, 'RACE-1', 50);
    const ids = await placeConcurrently(Array.from({ length: 200 }, (_, index) => ({ customerId: `cus_race_${index}`, items: [{ sku: 'RACE-1', quantity: 1 }] })));
    const outcomes = [...(await waitForTerminal(harness.db, ids, 120_000)).values()];
    assert.equal(outcomes.filter((outcome) => outcome.status === 'CONFIRMED').length, 50);
    const cancelled = outcomes.filter((outcome) => outcome.status === 'CANCELLED');
    assert.equal(cancelled.length, 150);
    assert.ok(cancelled.every((outcome) => outcome.reason?.includes('insufficient-stock')), JSON.stringify(cancelled.slice(0, 3)));
    assert.deepEqual(await stockOf(harness.orderstream, 'RACE-1'), { sku: 'RACE-1', onHand: 0, reserved: 0, available: 0 });
  });

  test('when multi-line orders touch the same SKUs in different orders, then there is no deadlock and no oversell', async () => {
    const skus = ['MULTI-A', 'MULTI-B', 'MULTI-C'];
    for (const sku of skus) await stockProduct(harness.orderstream, sku, 30);
    const orders = Array.from({ length: 60 }, (_, index) => {
      const rotated = [...skus.slice(index % 3), ...skus.slice(0, index % 3)];
      const chosen = index % 2 === 0 ? rotated : [...rotated].reverse();
      return { customerId: `cus_multi_${index}`, items: chosen.map((sku) => ({ sku, quantity: 1 })) };
    });
    const ids = await placeConcurrently(orders);
    const outcomes = [...(await waitForTerminal(harness.db, ids, 120_000)).values()];
    const confirmed = outcomes.filter((outcome) => outcome.status === 'CONFIRMED').length;
    assert.equal(confirmed, 30, 'each order takes one of each SKU, so exactly 30 fit');
    for (const sku of skus) assert.deepEqual(await stockOf(harness.orderstream, sku), { sku, onHand: 0, reserved: 0, available: 0 });
  });
});
