import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { inventoryMessages } from '../../src/modules/inventory/index.ts';
import { InProcessTransport, type OutgoingMessage } from '../../src/platform/messaging/index.ts';
import { eventually, placeOrder, startFulfilment, stockOf, stockProduct, waitForTerminal, type FulfilmentHarness } from './harness/fulfilment-harness.ts';

/**
 * Holds every `inventory.commit-stock` back until the test lets it through, as a first delivery that
 * failed and waits in the retry table is overtaken by the messages sent after it.
 */
class CommitWithholdingTransport extends InProcessTransport {
  readonly held: OutgoingMessage[] = [];

  override async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    const isCommit = (message: OutgoingMessage) => message.envelope.type === inventoryMessages.commitStock.type;
    this.held.push(...messages.filter(isCommit));
    await super.publish(messages.filter((message) => !isCommit(message)));
  }

  async deliverHeld(): Promise<void> {
    await super.publish(this.held.splice(0));
  }
}

const transport = new CommitWithholdingTransport();
let harness: FulfilmentHarness;
// commit-stock never answers in time, so the saga times it out and compensates with restock + release.
before(async () => { harness = await startFulfilment({ SAGA_STEP_TIMEOUT_MS: '3000' }, { transport, registerWebhook: false }); });
after(async () => { await harness.close(); });

test('when commit-stock arrives after its timed-out order was restocked, released and cancelled, then it is refused and the units stay on the shelf', async () => {
  await stockProduct(harness.orderstream, 'LATE-COMMIT-1', 5);
  const response = await placeOrder(harness.orderstream, 'cus_late_commit', [{ sku: 'LATE-COMMIT-1', quantity: 2 }]);
  assert.equal(response.statusCode, 202);
  const orderId = response.json<{ id: string }>().id;

  await eventually(() => transport.held.length === 1, 'the commit-stock command to be sent');
  const outcome = await waitForTerminal(harness.db, [orderId], 30_000);
  assert.deepEqual(outcome.get(orderId), { status: 'CANCELLED', reason: 'timeout: commit-stock' });
  assert.deepEqual(await stockOf(harness.orderstream, 'LATE-COMMIT-1'), { sku: 'LATE-COMMIT-1', onHand: 5, reserved: 0, available: 5 });

  await transport.deliverHeld();

  assert.deepEqual(await stockOf(harness.orderstream, 'LATE-COMMIT-1'), { sku: 'LATE-COMMIT-1', onHand: 5, reserved: 0, available: 5 });
  const answers = await sql<{ type: string }>`
    select type from messaging.outbox where key = ${orderId} and type = ${inventoryMessages.commitFailed.type}`.execute(harness.db);
  assert.equal(answers.rows.length, 1);
  // The refusal reaches a saga that has already finished: the order stays cancelled.
  await eventually(async () => {
    const unsent = await sql<{ count: number }>`
      select count(*)::int as count from messaging.outbox where key = ${orderId} and sent_at is null`.execute(harness.db);
    return unsent.rows[0]?.count === 0;
  }, 'the refusal to be relayed');
  assert.equal((await waitForTerminal(harness.db, [orderId])).get(orderId)?.status, 'CANCELLED');
});
