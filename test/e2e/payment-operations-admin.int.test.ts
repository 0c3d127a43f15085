import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { aRecordingSimulatedProvider } from '../../src/modules/payments/testing/recording-simulated-provider.ts';
import type { RecordingPaymentProvider } from '../../src/modules/payments/testing/recording-payment-provider.ts';
import {
  adminHeaders, customerHeaders, eventually, placeOrder, startFulfilment, stockOf, stockProduct, waitForTerminal, type FulfilmentHarness,
} from './harness/fulfilment-harness.ts';

let harness: FulfilmentHarness;
let provider: RecordingPaymentProvider;

before(async () => {
  provider = aRecordingSimulatedProvider();
  harness = await startFulfilment({}, { registerWebhook: false, payments: { paymentProvider: provider, maxAttempts: 3, retryBaseMs: 20 } });
});
after(async () => { await harness.close(); });

interface OperationDto {
  id: string;
  orderId: string;
  kind: string;
  status: string;
  attempts: number;
  lastError: string | null;
  amount: { amount: number; currency: string } | null;
}

async function failedOperationsOf(orderId: string): Promise<OperationDto[]> {
  const response = await harness.orderstream.app.inject({ method: 'GET', url: '/v1/admin/payment-operations?status=failed&limit=100', headers: adminHeaders });
  assert.equal(response.statusCode, 200, response.body);
  return response.json<{ items: OperationDto[] }>().items.filter((item) => item.orderId === orderId);
}

async function orderOf(orderId: string) {
  const response = await harness.orderstream.app.inject({ method: 'GET', url: `/v1/orders/${orderId}`, headers: customerHeaders('cus_payops') });
  assert.equal(response.statusCode, 200, response.body);
  return response.json<{ status: string; timeline: { step: string }[] }>();
}

describe('failed payment operations in one process', () => {
  test('when the provider stays down through the capture and its void, then the failed void is listed for admins; retried after the provider recovers, the order is CANCELLED with the hold released', async () => {
    await stockProduct(harness.orderstream, 'PAYOPS-1', 5, 2500);
    for (const call of ['capture', 'void', 'refund'] as const) provider.unavailable.add(call);
    const placed = await placeOrder(harness.orderstream, 'cus_payops', [{ sku: 'PAYOPS-1', quantity: 2 }]);
    assert.equal(placed.statusCode, 202, placed.body);
    const orderId = placed.json<{ id: string }>().id;

    let failed: OperationDto[] = [];
    await eventually(async () => (failed = await failedOperationsOf(orderId)).length > 0, 'a failed payment operation of the order', 30_000);
    assert.equal(failed.length, 1);
    const [operation] = failed;
    assert.ok(operation !== undefined);
    assert.deepEqual([operation.kind, operation.status, operation.attempts, operation.amount], ['void', 'failed', 3, { amount: 5000, currency: 'EUR' }]);
    assert.match(operation.lastError ?? '', /gave up after repeated transient failures/);
    // The provider was asked where the payment stands before each call was given up, and knew of nothing done.
    assert.ok(provider.lookups.filter((lookedUp) => lookedUp === orderId).length >= 2);
    assert.equal((await orderOf(orderId)).status, 'CANCELLING');

    for (const request of [
      { method: 'GET' as const, url: '/v1/admin/payment-operations?status=failed' },
      { method: 'POST' as const, url: `/v1/admin/payment-operations/${operation.id}/retry` },
    ]) {
      const refused = await harness.orderstream.app.inject({ ...request, headers: customerHeaders('cus_payops') });
      assert.equal(refused.statusCode, 403, refused.body);
    }
    assert.equal((await failedOperationsOf(orderId)).length, 1);

    for (const call of ['capture', 'void', 'refund'] as const) provider.unavailable.delete(call);
    const retried = await harness.orderstream.app.inject({ method: 'POST', url: `/v1/admin/payment-operations/${operation.id}/retry`, headers: adminHeaders });
    assert.equal(retried.statusCode, 202, retried.body);
    const outcome = await waitForTerminal(harness.db, [orderId], 30_000);
    assert.equal(outcome.get(orderId)?.status, 'CANCELLED');
    assert.ok((await orderOf(orderId)).timeline.some((entry) => entry.step === 'payment-voided'));
    assert.ok(!provider.callsFor(orderId).includes('refund'));
    assert.deepEqual(await failedOperationsOf(orderId), []);
    assert.deepEqual(await stockOf(harness.orderstream, 'PAYOPS-1'), { sku: 'PAYOPS-1', onHand: 5, reserved: 0, available: 5 });
  });
});
