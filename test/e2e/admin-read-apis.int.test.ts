import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  adminHeaders, customerHeaders, eventually, placeOrder, startFulfilment, stockProduct, waitForTerminal, type FulfilmentHarness,
} from './harness/fulfilment-harness.ts';

/**
 * The admin reads an operations console is built on, through the whole single process and its edge:
 * one order's way from the orders list to its payment operations and notifications, the stock
 * levels, the summary, and the route table refusing customers every one of them.
 */
let harness: FulfilmentHarness;
let orderId: string;
/** An instant after the order was confirmed: a backlog count taken since sees it finished. */
let confirmedBy: number;

before(async () => {
  harness = await startFulfilment({ SIMULATED_PAYMENT_DELAY_MS: '0' });
  await stockProduct(harness.orderstream, 'CONSOLE-MUG', 10);
  const placed = await placeOrder(harness.orderstream, 'cus_console', [{ sku: 'CONSOLE-MUG', quantity: 2 }]);
  assert.equal(placed.statusCode, 202, placed.body);
  orderId = placed.json<{ id: string }>().id;
  assert.equal((await waitForTerminal(harness.db, [orderId])).get(orderId)?.status, 'CONFIRMED');
  confirmedBy = Date.now();
});
after(async () => { await harness.close(); });

async function asAdmin<T>(url: string): Promise<T> {
  const response = await harness.orderstream.app.inject({ method: 'GET', url, headers: adminHeaders });
  assert.equal(response.statusCode, 200, response.body);
  return response.json<T>();
}

describe('admin reads of an operations console', () => {
  test('when a customer calls any of them, then 403 problem+json, even with a filter for their own order', async () => {
    for (const url of [
      '/v1/admin/orders', `/v1/admin/orders?email=cus_console@example.com`, '/v1/admin/summary', '/v1/admin/stock-levels?below=5',
      `/v1/admin/payment-operations?orderId=${orderId}`, `/v1/admin/email-deliveries?orderId=${orderId}`, `/v1/admin/webhook-deliveries?orderId=${orderId}`,
    ]) {
      const response = await harness.orderstream.app.inject({ method: 'GET', url, headers: customerHeaders('cus_console') });
      assert.equal(response.statusCode, 403, `${url}: ${response.body}`);
      assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
    }
  });

  test('when an admin follows a confirmed order, then it is listed by its email and SKU, with its payment operations, email and webhook deliveries', async () => {
    const listed = await asAdmin<{ items: { id: string; customerEmail: string; status: string }[] }>('/v1/admin/orders?email=CUS_CONSOLE@example.com&sku=console-mug&status=CONFIRMED');
    assert.deepEqual(listed.items.map((item) => [item.id, item.customerEmail, item.status]), [[orderId, 'cus_console@example.com', 'CONFIRMED']]);

    const operations = await asAdmin<{ items: { orderId: string; kind: string; status: string }[] }>(`/v1/admin/payment-operations?orderId=${orderId}`);
    assert.deepEqual(operations.items.map((item) => [item.orderId, item.kind, item.status]), [[orderId, 'authorize', 'done'], [orderId, 'capture', 'done']]);

    // The deliveries are made by the notifications consumer after the confirmation is announced.
    let emails: { orderId: string; eventType: string }[] = [];
    let webhooks: { orderId: string; eventType: string }[] = [];
    await eventually(async () => {
      emails = (await asAdmin<{ items: typeof emails }>(`/v1/admin/email-deliveries?orderId=${orderId}`)).items;
      webhooks = (await asAdmin<{ items: typeof webhooks }>(`/v1/admin/webhook-deliveries?orderId=${orderId}`)).items;
      return emails.length > 0 && webhooks.length > 0;
    }, 'the order\'s deliveries');
    assert.deepEqual(emails.map((item) => [item.orderId, item.eventType]), [[orderId, 'orders.confirmed']]);
    assert.deepEqual(webhooks.map((item) => [item.orderId, item.eventType]), [[orderId, 'orders.confirmed']]);
  });

  test('when an admin reads the stock levels and the summary, then the order\'s units are gone from stock and it counts as placed and confirmed', async () => {
    const low = await asAdmin<{ items: { sku: string; onHand: number; available: number }[] }>('/v1/admin/stock-levels?below=9');
    assert.deepEqual(low.items.filter((item) => item.sku === 'CONSOLE-MUG'), [{ sku: 'CONSOLE-MUG', onHand: 8, reserved: 0, available: 8 }]);
    assert.deepEqual((await asAdmin<{ items: { sku: string }[] }>('/v1/admin/stock-levels?below=8')).items.filter((item) => item.sku === 'CONSOLE-MUG'), []);

    let summary: {
      placed: number[]; confirmed: number[]; backlog: { unfinished: number; limit: number; countedAt: string } | null; confirmation: { confirmed: number; p95Seconds: number | null };
    } | undefined;
    // The backlog is counted every 250 ms: the count to judge is one taken after the order was confirmed.
    await eventually(async () => {
      summary = await asAdmin<NonNullable<typeof summary>>('/v1/admin/summary');
      return summary.backlog !== null && Date.parse(summary.backlog.countedAt) > confirmedBy;
    }, 'a backlog count taken after the confirmation');
    const sum = (series: number[]) => series.reduce((total, count) => total + count, 0);
    assert.deepEqual([sum(summary?.placed ?? []), sum(summary?.confirmed ?? []), summary?.confirmation.confirmed, summary?.backlog?.unfinished], [1, 1, 1, 0]);
    assert.ok((summary?.confirmation.p95Seconds ?? -1) >= 0);
  });
});
