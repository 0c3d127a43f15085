import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import {
  customerHeaders, eventually, placeOrder, startFulfilment, stockOf, stockProduct, waitForTerminal, type FulfilmentHarness,
} from './harness/fulfilment-harness.ts';

let harness: FulfilmentHarness;

before(async () => {
  harness = await startFulfilment({ SAGA_STEP_TIMEOUT_MS: '1500', SIMULATED_PAYMENT_DELAY_MS: '4000' });
});
after(async () => { await harness.close(); });

async function placed(customerId: string, items: { sku: string; quantity: number }[], token = 'tok_visa'): Promise<string> {
  const response = await placeOrder(harness.orderstream, customerId, items, token);
  assert.equal(response.statusCode, 202, response.body);
  return response.json<{ id: string }>().id;
}

async function order(orderId: string, customerId: string) {
  const response = await harness.orderstream.app.inject({ method: 'GET', url: `/v1/orders/${orderId}`, headers: customerHeaders(customerId) });
  assert.equal(response.statusCode, 200, response.body);
  return response.json<{ status: string; cancellationReason: string | null; timeline: { step: string }[]; refunded: unknown }>();
}

async function paymentCalls(orderId: string): Promise<string[]> {
  const rows = await sql<{ operation: string }>`select operation from payments.provider_calls where order_id = ${orderId} order by id`.execute(harness.db);
  return rows.rows.map((row) => row.operation);
}

describe('order fulfilment in one process', () => {
  test('when an order is paid with tok_visa, then it is CONFIRMED, stock committed, captured once, one email and one webhook, timeline complete', async () => {
    await stockProduct(harness.orderstream, 'HAPPY-1', 10, 1250);
    await stockProduct(harness.orderstream, 'HAPPY-2', 5, 300);
    const orderId = await placed('cus_happy', [{ sku: 'HAPPY-1', quantity: 2 }, { sku: 'happy-2', quantity: 1 }]);
    const outcome = await waitForTerminal(harness.db, [orderId]);
    assert.equal(outcome.get(orderId)?.status, 'CONFIRMED');
    assert.deepEqual(await stockOf(harness.orderstream, 'HAPPY-1'), { sku: 'HAPPY-1', onHand: 8, reserved: 0, available: 8 });
    assert.deepEqual(await stockOf(harness.orderstream, 'HAPPY-2'), { sku: 'HAPPY-2', onHand: 4, reserved: 0, available: 4 });
    assert.equal((await paymentCalls(orderId)).filter((operation) => operation === 'capture').length, 1);
    const view = await order(orderId, 'cus_happy');
    assert.deepEqual(view.timeline.map((entry) => entry.step), ['placed', 'stock-reserved', 'payment-authorized', 'payment-captured', 'stock-committed', 'confirmed']);
    await eventually(() => harness.smtp.received.some((email) => email.to.includes('cus_happy@example.com')), 'the confirmation email');
    await eventually(() => harness.webhooks.received.some((call) => call.body.includes(orderId)), 'the webhook');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(harness.smtp.received.filter((email) => email.to.includes('cus_happy@example.com')).length, 1);
    assert.equal(harness.webhooks.received.filter((call) => call.body.includes(orderId)).length, 1);
  });

  for (const [token, reason] of [['tok_declined', 'card-declined'], ['tok_insufficient_funds', 'insufficient-funds']] as const) {
    test(`when the payment token is ${token}, then the order is CANCELLED for ${reason}, stock released and nothing captured`, async () => {
      const sku = `DECLINE-${reason}`.toUpperCase();
      await stockProduct(harness.orderstream, sku, 3);
      const orderId = await placed(`cus_${reason}`, [{ sku, quantity: 2 }], token);
      const outcome = await waitForTerminal(harness.db, [orderId]);
      assert.equal(outcome.get(orderId)?.status, 'CANCELLED');
      assert.match(outcome.get(orderId)?.reason ?? '', new RegExp(reason));
      assert.deepEqual(await stockOf(harness.orderstream, sku), { sku, onHand: 3, reserved: 0, available: 3 });
      assert.ok(!(await paymentCalls(orderId)).includes('capture'));
    });
  }

  test('when there is not enough stock, then the order is CANCELLED for stock and nothing is charged', async () => {
    await stockProduct(harness.orderstream, 'SCARCE-1', 1);
    const orderId = await placed('cus_scarce', [{ sku: 'SCARCE-1', quantity: 2 }]);
    const outcome = await waitForTerminal(harness.db, [orderId]);
    assert.equal(outcome.get(orderId)?.status, 'CANCELLED');
    assert.match(outcome.get(orderId)?.reason ?? '', /insufficient-stock/);
    assert.deepEqual(await paymentCalls(orderId), []);
  });

  test('when the payment answers after the step timeout (tok_slow), then the order is compensated: stock released, hold voided', async () => {
    await stockProduct(harness.orderstream, 'SLOW-1', 2);
    const orderId = await placed('cus_slow', [{ sku: 'SLOW-1', quantity: 1 }], 'tok_slow');
    const outcome = await waitForTerminal(harness.db, [orderId], 30_000);
    assert.equal(outcome.get(orderId)?.status, 'CANCELLED');
    assert.match(outcome.get(orderId)?.reason ?? '', /timeout/);
    assert.deepEqual(await stockOf(harness.orderstream, 'SLOW-1'), { sku: 'SLOW-1', onHand: 2, reserved: 0, available: 2 });
    await eventually(async () => (await paymentCalls(orderId)).includes('void'), 'the late authorisation to be voided', 30_000);
    assert.ok(!(await paymentCalls(orderId)).includes('capture'));
  });

  test('when the provider fails once (tok_flaky), then retries recover and the order is CONFIRMED', async () => {
    await stockProduct(harness.orderstream, 'FLAKY-1', 2);
    const orderId = await placed('cus_flaky', [{ sku: 'FLAKY-1', quantity: 1 }], 'tok_flaky');
    const outcome = await waitForTerminal(harness.db, [orderId]);
    assert.equal(outcome.get(orderId)?.status, 'CONFIRMED');
  });

  test('when a confirmed order is cancelled, then it is refunded and restocked', async () => {
    await stockProduct(harness.orderstream, 'REFUND-1', 4);
    const orderId = await placed('cus_refund', [{ sku: 'REFUND-1', quantity: 3 }]);
    await waitForTerminal(harness.db, [orderId]);
    const cancel = await harness.orderstream.app.inject({ method: 'POST', url: `/v1/orders/${orderId}/cancel`, headers: customerHeaders('cus_refund') });
    assert.equal(cancel.statusCode, 202, cancel.body);
    await eventually(async () => (await order(orderId, 'cus_refund')).status === 'CANCELLED', 'the refund to complete');
    assert.deepEqual(await stockOf(harness.orderstream, 'REFUND-1'), { sku: 'REFUND-1', onHand: 4, reserved: 0, available: 4 });
    assert.notEqual((await order(orderId, 'cus_refund')).refunded, null);
    const again = await harness.orderstream.app.inject({ method: 'POST', url: `/v1/orders/${orderId}/cancel`, headers: customerHeaders('cus_refund') });
    assert.equal(again.statusCode, 409);
  });
});
