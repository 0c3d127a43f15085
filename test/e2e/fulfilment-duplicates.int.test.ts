import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { InProcessTransport, type OutgoingMessage } from '../../src/platform/messaging/index.ts';
import { eventually, placeOrder, startFulfilment, stockOf, stockProduct, waitForTerminal, type FulfilmentHarness } from './harness/fulfilment-harness.ts';

/** Delivers every message twice, as an at-least-once broker may after a crash. */
class DuplicatingTransport extends InProcessTransport {
  override async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    await super.publish(messages);
    await super.publish(messages);
  }
}

let harness: FulfilmentHarness;
before(async () => { harness = await startFulfilment({}, { transport: new DuplicatingTransport() }); });
after(async () => { await harness.close(); });

test('when every message of an order is delivered twice, then there is one reservation, one capture, one email and one webhook', async () => {
  await stockProduct(harness.orderstream, 'TWICE-1', 5);
  const response = await placeOrder(harness.orderstream, 'cus_twice', [{ sku: 'TWICE-1', quantity: 2 }]);
  assert.equal(response.statusCode, 202);
  const orderId = response.json<{ id: string }>().id;
  assert.equal((await waitForTerminal(harness.db, [orderId])).get(orderId)?.status, 'CONFIRMED');
  assert.deepEqual(await stockOf(harness.orderstream, 'TWICE-1'), { sku: 'TWICE-1', onHand: 3, reserved: 0, available: 3 });
  const captures = await sql<{ count: number }>`select count(*)::int as count from payments.provider_calls where order_id = ${orderId} and operation = 'capture'`.execute(harness.db);
  assert.equal(captures.rows[0]?.count, 1);
  await eventually(() => harness.smtp.received.length >= 1 && harness.webhooks.received.length >= 1, 'the notifications');
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(harness.smtp.received.length, 1);
  assert.equal(harness.webhooks.received.length, 1);
});
