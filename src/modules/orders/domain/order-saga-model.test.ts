import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { aPlacedOrder } from '../testing/order-builder.ts';
import { OrderNotCancellableError } from './order.errors.ts';
import { applySagaEvent, applyTimeout, requestCancellation, type SagaAction, type SagaEvent, type Transition } from './order-saga.ts';
import type { Compensation, Order, OrderStatus, SagaStep } from './order.ts';

const stepTimeoutMs = 30_000;
const steps: readonly SagaStep[] = ['reserve-stock', 'authorize-payment', 'capture-payment', 'commit-stock'];

/** A message the saga sent and the other modules have not answered yet. */
type InFlight = { kind: 'step'; step: SagaStep } | { kind: 'compensation'; compensation: Compensation };

/** What may happen to an order, in any order: answers (kept for duplicates or not), stray events, lost messages, time, cancellations. */
type Command =
  | { kind: 'answer'; pick: number; succeeds: boolean; keep: boolean }
  | { kind: 'stray'; event: SagaEvent }
  | { kind: 'lose-messages' }
  | { kind: 'time-passes'; ms: number }
  | { kind: 'cancel' };

const strayEvents: SagaEvent[] = [
  ...steps.flatMap((step): SagaEvent[] => [{ kind: 'step-succeeded', step }, { kind: 'step-failed', step, reason: 'stray' }]),
  { kind: 'stock-released', expired: false },
  { kind: 'stock-released', expired: true },
  { kind: 'payment-voided' },
  { kind: 'payment-refunded', amount: { amount: 3048, currency: 'EUR' } },
  { kind: 'stock-restocked' },
];

const commandArbitrary: fc.Arbitrary<Command> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('answer' as const), pick: fc.nat(7), succeeds: fc.boolean(), keep: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('stray' as const), event: fc.constantFrom(...strayEvents) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'lose-messages' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('time-passes' as const), ms: fc.integer({ min: 1, max: 10 * stepTimeoutMs }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'cancel' as const }) },
);

const allowedMoves: Record<OrderStatus, readonly OrderStatus[]> = {
  PENDING: ['PENDING', 'RESERVED', 'CANCELLING', 'CANCELLED'],
  RESERVED: ['RESERVED', 'AUTHORIZED', 'CANCELLING', 'CANCELLED'],
  AUTHORIZED: ['AUTHORIZED', 'CONFIRMED', 'CANCELLING', 'CANCELLED'],
  CONFIRMED: ['CONFIRMED', 'CANCELLING'],
  CANCELLING: ['CANCELLING', 'CANCELLED'],
  CANCELLED: ['CANCELLED'],
};

function answerTo(message: InFlight, succeeds: boolean): SagaEvent {
  if (message.kind === 'step') return succeeds ? { kind: 'step-succeeded', step: message.step } : { kind: 'step-failed', step: message.step, reason: 'refused' };
  switch (message.compensation) {
    case 'release-stock':
      return { kind: 'stock-released', expired: false };
    case 'void-payment':
      return { kind: 'payment-voided' };
    case 'refund-payment':
      return { kind: 'payment-refunded', amount: { amount: 3048, currency: 'EUR' } };
    case 'restock':
      return { kind: 'stock-restocked' };
  }
}

function sent(actions: readonly SagaAction[]): InFlight[] {
  return actions.flatMap((action): InFlight[] => {
    if (action.kind === 'start-step') return [{ kind: 'step', step: action.step }];
    if (action.kind === 'compensate') return [{ kind: 'compensation', compensation: action.compensation }];
    return [];
  });
}

/** One order and the messages between it and the other modules. */
class World {
  order: Order;
  inFlight: InFlight[] = [];
  now: number;

  constructor() {
    this.order = aPlacedOrder();
    this.now = this.order.createdAt.getTime();
    this.inFlight.push({ kind: 'step', step: 'reserve-stock' });
  }

  apply(transition: Transition): void {
    const before = this.order;
    const after = transition.order;
    assert.ok(allowedMoves[before.status].includes(after.status), `${before.status} must not move to ${after.status}`);
    assert.ok(after.version >= before.version, 'the version never goes back');
    this.order = after;
    this.inFlight.push(...sent(transition.actions));
    assertNeverForgotten(after);
  }

  run(command: Command): void {
    const at = new Date((this.now += 1));
    switch (command.kind) {
      case 'answer': {
        const message = this.inFlight[command.pick % Math.max(1, this.inFlight.length)];
        if (message === undefined) return;
        if (!command.keep) this.inFlight.splice(this.inFlight.indexOf(message), 1);
        this.apply(applySagaEvent(this.order, answerTo(message, command.succeeds), at, stepTimeoutMs));
        return;
      }
      case 'stray':
        this.apply(applySagaEvent(this.order, command.event, at, stepTimeoutMs));
        return;
      case 'lose-messages':
        this.inFlight = [];
        return;
      case 'time-passes':
        this.now += command.ms;
        this.sweep();
        return;
      case 'cancel':
        try {
          this.apply(requestCancellation(this.order, at, stepTimeoutMs));
        } catch (error) {
          if (!(error instanceof OrderNotCancellableError)) throw error;
          assert.ok(this.order.status === 'CANCELLING' || this.order.status === 'CANCELLED', `${this.order.status} must be cancellable`);
        }
    }
  }

  /** The timeout sweeper's pass over this order. */
  sweep(): void {
    const due = this.order.status === 'CANCELLING' && this.order.stepDeadline !== null && this.order.stepDeadline.getTime() <= this.now;
    const transition = applyTimeout(this.order, new Date(this.now), stepTimeoutMs);
    if (due) {
      const resent = transition.actions.flatMap((action) => action.kind === 'compensate' ? [action.compensation] : []);
      assert.deepEqual(resent, this.order.pendingCompensations, 'every unacknowledged compensation is sent again once its deadline passes');
      assert.ok((transition.order.stepDeadline?.getTime() ?? 0) > this.now, 'and awaited until a later deadline');
    }
    this.apply(transition);
  }

  /** From now on nothing is lost: every message is answered as asked, and the sweeper runs whenever a deadline passes. */
  settle(): void {
    for (let round = 0; round < 30 && !isTerminal(this.order.status); round += 1) {
      for (let message = this.inFlight.shift(); message !== undefined; message = this.inFlight.shift()) {
        this.apply(applySagaEvent(this.order, answerTo(message, true), new Date((this.now += 1)), stepTimeoutMs));
      }
      if (this.order.stepDeadline !== null) this.now = Math.max(this.now, this.order.stepDeadline.getTime());
      this.sweep();
    }
  }
}

function isTerminal(status: OrderStatus): boolean {
  return status === 'CONFIRMED' || status === 'CANCELLED';
}

/** A non-terminal order always awaits something with a deadline: a step in flight, or its pending compensations. */
function assertNeverForgotten(order: Order): void {
  if (order.status === 'CANCELLED') {
    assert.deepEqual(order.pendingCompensations, [], 'a cancelled order awaits no compensation');
    return;
  }
  if (order.status === 'CONFIRMED') return;
  const summary = `${order.status} step=${order.currentStep ?? 'none'} pending=[${order.pendingCompensations.join(',')}] deadline=${order.stepDeadline?.toISOString() ?? 'none'}`;
  assert.notEqual(order.stepDeadline, null, `a non-terminal order has a deadline: ${summary}`);
  if (order.status === 'CANCELLING') {
    assert.equal(order.currentStep, null, `a cancelling order runs no forward step: ${summary}`);
    assert.ok(order.pendingCompensations.length > 0, `a cancelling order awaits a compensation: ${summary}`);
  } else {
    assert.notEqual(order.currentStep, null, `a running order has a step in flight: ${summary}`);
  }
}

describe('the fulfilment saga, as a model', () => {
  test('when answers, duplicates, stray events, lost messages, time and cancellations come in any order, then the order only moves along allowed transitions, never waits without a deadline, and ends CONFIRMED or CANCELLED once nothing is lost', () => {
    fc.assert(
      fc.property(fc.array(commandArbitrary, { maxLength: 40 }), (commands) => {
        const world = new World();
        for (const command of commands) world.run(command);
        world.settle();
        assert.ok(isTerminal(world.order.status), `the order ends terminal, not ${world.order.status} awaiting [${world.order.pendingCompensations.join(',')}]`);
      }),
      { numRuns: 1000 },
    );
  });
});
