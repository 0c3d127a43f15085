import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { aPlacedOrder } from '../testing/order-builder.ts';
import { OrderNotCancellableError } from './order.errors.ts';
import {
  applySagaEvent, applyTimeout, compensationResends, compensationResendsBeforeAlarm, compensationsFor, needsAttention, requestCancellation,
  type SagaAction, type SagaEvent,
} from './order-saga.ts';
import type { Order } from './order.ts';

const timeout = 30_000;
let clock = new Date('2026-03-01T10:00:00Z').getTime();
const tick = () => new Date((clock += 1000));

function run(order: Order, ...events: SagaEvent[]): { order: Order; actions: SagaAction[] } {
  let current = order;
  const actions: SagaAction[] = [];
  for (const event of events) {
    const transition = applySagaEvent(current, event, tick(), timeout);
    current = transition.order;
    actions.push(...transition.actions);
  }
  return { order: current, actions };
}

const reserved: SagaEvent = { kind: 'step-succeeded', step: 'reserve-stock' };
const authorized: SagaEvent = { kind: 'step-succeeded', step: 'authorize-payment' };
const captured: SagaEvent = { kind: 'step-succeeded', step: 'capture-payment' };
const committed: SagaEvent = { kind: 'step-succeeded', step: 'commit-stock' };

describe('the fulfilment saga', () => {
  test('when every step succeeds, then the order is CONFIRMED after reserve, authorize, capture and commit, and announced once', () => {
    const { order, actions } = run(aPlacedOrder(), reserved, authorized, captured, committed);
    assert.equal(order.status, 'CONFIRMED');
    assert.equal(order.currentStep, null);
    assert.deepEqual(actions, [
      { kind: 'start-step', step: 'authorize-payment' },
      { kind: 'start-step', step: 'capture-payment' },
      { kind: 'start-step', step: 'commit-stock' },
      { kind: 'announce-confirmed' },
    ]);
    assert.deepEqual(order.timeline.map((entry) => entry.step), ['placed', 'stock-reserved', 'payment-authorized', 'payment-captured', 'stock-committed', 'confirmed']);
  });

  test('when a step reports twice or late, then the second report changes nothing', () => {
    const once = run(aPlacedOrder(), reserved);
    const twice = applySagaEvent(once.order, reserved, tick(), timeout);
    assert.equal(twice.order, once.order);
    assert.deepEqual(twice.actions, []);
  });

  test('when the reservation fails, then the order is CANCELLED at once with the reason and nothing to compensate', () => {
    const { order, actions } = run(aPlacedOrder(), { kind: 'step-failed', step: 'reserve-stock', reason: 'insufficient-stock: MUG-1' });
    assert.equal(order.status, 'CANCELLED');
    assert.equal(order.cancellationReason, 'insufficient-stock: MUG-1');
    assert.deepEqual(actions, [{ kind: 'announce-cancelled' }]);
  });

  test('when the payment is declined, then stock is released and the order is CANCELLED once the release is acknowledged', () => {
    const declined = run(aPlacedOrder(), reserved, { kind: 'step-failed', step: 'authorize-payment', reason: 'payment-declined: card-declined' });
    assert.equal(declined.order.status, 'CANCELLING');
    assert.deepEqual(declined.actions.slice(1), [{ kind: 'compensate', compensation: 'release-stock', reason: 'payment-declined: card-declined' }]);
    const done = run(declined.order, { kind: 'stock-released', expired: false });
    assert.equal(done.order.status, 'CANCELLED');
    assert.deepEqual(done.actions, [{ kind: 'announce-cancelled' }]);
  });

  test('when the authorisation times out, then the possibly late hold is voided and stock released', () => {
    const reservedOrder = run(aPlacedOrder(), reserved).order;
    assert.deepEqual(applyTimeout(reservedOrder, new Date(clock), timeout).actions, []);
    const timedOut = applyTimeout(reservedOrder, new Date(clock + timeout + 1), timeout);
    assert.equal(timedOut.order.status, 'CANCELLING');
    assert.deepEqual(timedOut.order.pendingCompensations, ['void-payment', 'release-stock']);
    const late = run(timedOut.order, authorized);
    assert.equal(late.order.status, 'CANCELLING', 'a late authorisation must not revive the order');
    const done = run(late.order, { kind: 'payment-voided' }, { kind: 'stock-released', expired: false });
    assert.equal(done.order.status, 'CANCELLED');
  });

  test('when a void is answered with a refund (the provider had captured after all), then the void is settled and the refund recorded', () => {
    const reservedOrder = run(aPlacedOrder(), reserved).order;
    const timedOut = applyTimeout(reservedOrder, new Date(clock + timeout + 1), timeout).order;
    assert.deepEqual(timedOut.pendingCompensations, ['void-payment', 'release-stock']);
    const done = run(timedOut, { kind: 'payment-refunded', amount: timedOut.total }, { kind: 'stock-released', expired: false }).order;
    assert.equal(done.status, 'CANCELLED');
    assert.deepEqual(done.refunded, timedOut.total);
  });

  test('when a confirmed order is cancelled, then it is refunded and restocked, and records the refund', () => {
    const confirmed = run(aPlacedOrder(), reserved, authorized, captured, committed).order;
    const cancelling = requestCancellation(confirmed, tick(), timeout);
    assert.deepEqual(cancelling.order.pendingCompensations, ['restock', 'refund-payment', 'release-stock']);
    const done = run(cancelling.order, { kind: 'stock-restocked' }, { kind: 'payment-refunded', amount: confirmed.total }, { kind: 'stock-released', expired: false });
    assert.equal(done.order.status, 'CANCELLED');
    assert.deepEqual(done.order.refunded, confirmed.total);
  });

  test('when compensations go unanswered past their deadline, then they are sent again with a growing wait, and after enough re-sends the order needs attention', () => {
    const cancelling = requestCancellation(run(aPlacedOrder(), reserved).order, tick(), timeout).order;
    assert.equal(cancelling.stepDeadline?.getTime(), clock + timeout, 'compensation is awaited like a step');
    assert.deepEqual(applyTimeout(cancelling, new Date(clock + timeout - 1), timeout).actions, [], 'nothing is re-sent before the deadline');
    let order = cancelling;
    const waits: number[] = [];
    for (let resend = 1; resend <= compensationResendsBeforeAlarm; resend += 1) {
      assert.equal(needsAttention(order), false);
      const deadline = order.stepDeadline?.getTime() ?? Number.NaN;
      const transition = applyTimeout(order, new Date(deadline), timeout);
      assert.deepEqual(transition.actions, [
        { kind: 'compensate', compensation: 'void-payment', reason: 'cancelled by request' },
        { kind: 'compensate', compensation: 'release-stock', reason: 'cancelled by request' },
      ]);
      order = transition.order;
      waits.push((order.stepDeadline?.getTime() ?? Number.NaN) - deadline);
    }
    assert.deepEqual(waits, [2, 4, 8, 16, 32].map((factor) => factor * timeout));
    assert.equal(compensationResends(order), compensationResendsBeforeAlarm);
    assert.equal(needsAttention(order), true);
    const done = run(order, { kind: 'payment-voided' }, { kind: 'stock-released', expired: false }).order;
    assert.equal(done.status, 'CANCELLED');
    assert.equal(done.stepDeadline, null, 'a cancelled order awaits nothing');
    assert.equal(needsAttention(done), false);
  });

  test('when one of two compensations is acknowledged, then the other is still awaited until the same deadline and is the only one re-sent', () => {
    const cancelling = requestCancellation(run(aPlacedOrder(), reserved).order, tick(), timeout).order;
    const halfDone = run(cancelling, { kind: 'stock-released', expired: false }).order;
    assert.deepEqual(halfDone.stepDeadline, cancelling.stepDeadline);
    assert.deepEqual(applyTimeout(halfDone, new Date(clock + timeout), timeout).actions, [{ kind: 'compensate', compensation: 'void-payment', reason: 'cancelled by request' }]);
  });

  test('when an order is already cancelled, then cancelling again is refused', () => {
    const cancelled = run(aPlacedOrder(), { kind: 'step-failed', step: 'reserve-stock', reason: 'x' }).order;
    assert.throws(() => requestCancellation(cancelled, tick(), timeout), OrderNotCancellableError);
  });

  test('when the reservation expires before the stock is committed, then the order is compensated', () => {
    const { order } = run(aPlacedOrder(), reserved, { kind: 'stock-released', expired: true });
    assert.equal(order.status, 'CANCELLING');
    assert.equal(order.cancellationReason, 'reservation-expired');
  });

  test('when choosing compensations, then one payment compensation at most, latest step first', () => {
    assert.deepEqual(compensationsFor(['reserve-stock']), ['release-stock']);
    assert.deepEqual(compensationsFor(['reserve-stock', 'authorize-payment']), ['void-payment', 'release-stock']);
    assert.deepEqual(compensationsFor(['reserve-stock', 'authorize-payment', 'capture-payment', 'commit-stock']), ['restock', 'refund-payment', 'release-stock']);
  });
});
