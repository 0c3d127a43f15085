import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { placeOrder, startFulfilment, stockOf, stockProduct, waitForTerminal, type FulfilmentHarness } from './harness/fulfilment-harness.ts';

let harness: FulfilmentHarness;
// Reservations last one second; the slow payment takes three, within a generous step timeout.
before(async () => { harness = await startFulfilment({ RESERVATION_TTL_SECONDS: '1', SAGA_STEP_TIMEOUT_MS: '20000', SIMULATED_PAYMENT_DELAY_MS: '3000' }); });
after(async () => { await harness.close(); });

test('when a reservation expires while the payment is still pending, then the order is compensated and the stock is free again', async () => {
  await stockProduct(harness.orderstream, 'EXPIRE-1', 2);
  const response = await placeOrder(harness.orderstream, 'cus_expiry', [{ sku: 'EXPIRE-1', quantity: 2 }], 'tok_slow');
  assert.equal(response.statusCode, 202);
  const orderId = response.json<{ id: string }>().id;
  const outcome = await waitForTerminal(harness.db, [orderId], 40_000);
  assert.equal(outcome.get(orderId)?.status, 'CANCELLED');
  assert.equal(outcome.get(orderId)?.reason, 'reservation-expired');
  assert.deepEqual(await stockOf(harness.orderstream, 'EXPIRE-1'), { sku: 'EXPIRE-1', onHand: 2, reserved: 0, available: 2 });
});
