import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SagaStep } from '../domain/order.ts';
import { aPlacedOrder } from '../testing/order-builder.ts';
import { InMemoryOrders } from '../testing/in-memory-orders.ts';
import { AdvanceSaga } from './advance-saga.ts';
import { CancelOrder } from './cancel-order.ts';
import type { OrderMetrics, SagaStepOutcome } from './ports.ts';
import { TimeOutOrders } from './time-out-orders.ts';
import { compensationResendsBeforeAlarm } from '../domain/order-saga.ts';

/** Records what the use cases report, in order. */
class RecordingMetrics implements OrderMetrics {
  readonly reported: string[] = [];
  readonly durations: number[] = [];
  orderPlaced(): void { this.reported.push('placed'); }
  sagaStepEnded(step: SagaStep, outcome: SagaStepOutcome, seconds: number): void {
    this.reported.push(`${step} ${outcome}`);
    this.durations.push(seconds);
  }
  cancellationStarted(cause: string): void { this.reported.push(`cancelling: ${cause}`); }
  orderFinished(status: 'CONFIRMED' | 'CANCELLED'): void { this.reported.push(status); }
  compensationsResent(needsAttention: boolean): void { this.reported.push(needsAttention ? 'resent: needs attention' : 'resent'); }
  backlogSampled(unfinished: number, limit: number): void { this.reported.push(`backlog ${String(unfinished)} of ${String(limit)}`); }
  orderRefused(): void { this.reported.push('refused'); }
}

const placedAt = new Date('2026-03-01T10:00:00Z');
const at = (seconds: number) => new Date(placedAt.getTime() + seconds * 1000);

function setUp() {
  const orders = new InMemoryOrders();
  orders.orders.set('ord_1', aPlacedOrder(placedAt));
  const metrics = new RecordingMetrics();
  let now = placedAt;
  const advanceSaga = new AdvanceSaga({ stepTimeoutMs: 30_000, metrics, now: () => now });
  /** Applies an event as the saga consumer does, reporting only once "committed". */
  const deliver = async (seconds: number, event: Parameters<AdvanceSaga['execute']>[2]) => {
    now = at(seconds);
    const report = await orders.run((store) => advanceSaga.execute(store, 'ord_1', event));
    report();
  };
  return { orders, metrics, deliver };
}

describe('what the saga reports', () => {
  test('when an order goes through every step, then each step is reported succeeded with its duration, and CONFIRMED once', async () => {
    const { metrics, deliver } = setUp();
    await deliver(0.5, { kind: 'step-succeeded', step: 'reserve-stock' });
    await deliver(2, { kind: 'step-succeeded', step: 'authorize-payment' });
    await deliver(2.25, { kind: 'step-succeeded', step: 'capture-payment' });
    await deliver(3, { kind: 'step-succeeded', step: 'commit-stock' });
    await deliver(4, { kind: 'step-succeeded', step: 'commit-stock' }); // a duplicate: changes nothing, reports nothing
    assert.deepEqual(metrics.reported, [
      'reserve-stock succeeded', 'authorize-payment succeeded', 'capture-payment succeeded', 'commit-stock succeeded', 'CONFIRMED',
    ]);
    assert.deepEqual(metrics.durations, [0.5, 1.5, 0.25, 0.75]);
  });

  test('when the payment is declined, then the step is reported failed, the cancellation by its cause, and CANCELLED only once compensated', async () => {
    const { metrics, deliver } = setUp();
    await deliver(1, { kind: 'step-succeeded', step: 'reserve-stock' });
    await deliver(2, { kind: 'step-failed', step: 'authorize-payment', reason: 'payment-declined: card-declined' });
    assert.deepEqual(metrics.reported.slice(1), ['authorize-payment failed', 'cancelling: authorize-payment-failed']);
    await deliver(3, { kind: 'payment-voided' });
    await deliver(3, { kind: 'stock-released', expired: false });
    assert.deepEqual(metrics.reported.slice(3), ['CANCELLED']);
  });

  test('when a step passes its deadline, then it is reported timed-out; when a customer cancels, then the step in flight is reported cancelled', async () => {
    const { orders, metrics } = setUp();
    assert.equal(await new TimeOutOrders({ orders, transactions: orders, stepTimeoutMs: 30_000, metrics, now: () => at(31) }).execute(), 1);
    assert.deepEqual(metrics.reported, ['reserve-stock timed-out', 'cancelling: timed-out']);
    assert.deepEqual(metrics.durations, [31]);

    const other = setUp();
    await other.deliver(1, { kind: 'step-succeeded', step: 'reserve-stock' });
    await new CancelOrder({ transactions: other.orders, stepTimeoutMs: 30_000, metrics: other.metrics, now: () => at(5) }).execute('ord_1', { id: 'cus_1', isAdmin: false });
    assert.deepEqual(other.metrics.reported, ['reserve-stock succeeded', 'authorize-payment cancelled', 'cancelling: cancel-requested']);
  });

  test('when a cancelling order\'s compensations go unanswered, then the sweeper re-sends them, and once re-sending has not helped it reports and logs the order as needing attention at every re-send', async () => {
    const { orders, metrics, deliver } = setUp();
    const logged: { details: object; message: string }[] = [];
    let now = at(0);
    const sweeper = new TimeOutOrders({ orders, transactions: orders, stepTimeoutMs: 30_000, metrics, log: { error: (details, message) => { logged.push({ details, message }); } }, now: () => now });
    await deliver(1, { kind: 'step-succeeded', step: 'reserve-stock' });
    await deliver(2, { kind: 'step-failed', step: 'authorize-payment', reason: 'payment-declined: card-declined' });
    metrics.reported.length = 0;
    const sentBefore = orders.actions.length;
    for (let sweep = 1; sweep <= compensationResendsBeforeAlarm + 1; sweep += 1) {
      now = orders.orders.get('ord_1')?.stepDeadline ?? assert.fail('a cancelling order has a deadline');
      assert.equal(await sweeper.execute(), 1);
    }
    assert.deepEqual(metrics.reported, [
      ...Array.from({ length: compensationResendsBeforeAlarm - 1 }, () => 'resent'),
      'resent: needs attention', 'resent: needs attention',
    ]);
    assert.deepEqual(orders.actions.slice(sentBefore).map((action) => action.kind === 'compensate' ? action.compensation : action.kind),
      Array.from({ length: compensationResendsBeforeAlarm + 1 }, () => 'release-stock'));
    assert.equal(logged.length, 2);
    assert.deepEqual((logged[0]?.details as { orderId?: string }).orderId, 'ord_1');
    now = new Date(now.getTime() + 1);
    assert.equal(await sweeper.execute(), 0, 'nothing is due again before the next, longer wait');
  });

  test('when the transaction of a saga step rolls back, then nothing is reported for it', async () => {
    const { orders, metrics } = setUp();
    const advanceSaga = new AdvanceSaga({ stepTimeoutMs: 30_000, metrics });
    await assert.rejects(orders.run(async (store) => {
      await advanceSaga.execute(store, 'ord_1', { kind: 'step-succeeded', step: 'reserve-stock' });
      throw new Error('the inbox transaction failed');
    }));
    assert.deepEqual(metrics.reported, []);
    assert.equal(orders.orders.get('ord_1')?.status, 'PENDING');
  });
});
