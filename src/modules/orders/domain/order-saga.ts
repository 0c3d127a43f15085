import type { Money } from './money.ts';
import { OrderNotCancellableError } from './order.errors.ts';
import type { Compensation, Order, OrderStatus, SagaStep } from './order.ts';

/**
 * The fulfilment saga, orchestrated by the order itself. Each forward step names the status the
 * order has while it runs and the compensation that undoes it, side by side.
 */
export const sagaSteps: readonly { step: SagaStep; statusWhileRunning: OrderStatus; compensation: Compensation; succeeded: string }[] = [
  { step: 'reserve-stock', statusWhileRunning: 'PENDING', compensation: 'release-stock', succeeded: 'stock-reserved' },
  { step: 'authorize-payment', statusWhileRunning: 'RESERVED', compensation: 'void-payment', succeeded: 'payment-authorized' },
  { step: 'capture-payment', statusWhileRunning: 'AUTHORIZED', compensation: 'refund-payment', succeeded: 'payment-captured' },
  { step: 'commit-stock', statusWhileRunning: 'AUTHORIZED', compensation: 'restock', succeeded: 'stock-committed' },
];

/** What the saga asks the outside world to do after a transition; the adapter turns these into messages. */
export type SagaAction =
  | { kind: 'start-step'; step: SagaStep }
  | { kind: 'compensate'; compensation: Compensation; reason: string }
  | { kind: 'announce-confirmed' }
  | { kind: 'announce-cancelled' };

export interface Transition {
  order: Order;
  actions: SagaAction[];
}

/** What the other modules report back, in the order's own terms. */
export type SagaEvent =
  | { kind: 'step-succeeded'; step: SagaStep }
  | { kind: 'step-failed'; step: SagaStep; reason: string }
  | { kind: 'stock-released'; expired: boolean }
  | { kind: 'payment-voided' }
  | { kind: 'payment-refunded'; amount: Money }
  | { kind: 'stock-restocked' };

const unchanged = (order: Order): Transition => ({ order, actions: [] });

/** Applies an event from another module. Events that no longer match the order's state (late, duplicated) change nothing. */
export function applySagaEvent(order: Order, event: SagaEvent, now: Date, stepTimeoutMs: number): Transition {
  switch (event.kind) {
    case 'step-succeeded':
      return stepSucceeded(order, event.step, now, stepTimeoutMs);
    case 'step-failed':
      if (order.currentStep !== event.step) return unchanged(order);
      return beginCompensation(order, compensationsFor(order.startedSteps.filter((step) => step !== event.step)), event.reason, now, `${event.step}-failed`, stepTimeoutMs);
    case 'stock-released':
      if (order.status === 'CANCELLING') return acknowledge(order, ['release-stock'], now, 'stock-released');
      // A reservation that expired under a running saga: stop before money moves, or let commit-stock deal with it.
      if (event.expired && order.currentStep !== null && !order.startedSteps.includes('commit-stock')) {
        return beginCompensation(order, compensationsFor(order.startedSteps), 'reservation-expired', now, 'reservation-expired', stepTimeoutMs);
      }
      return unchanged(order);
    case 'payment-voided':
      return acknowledge(order, ['void-payment', 'refund-payment'], now, 'payment-voided');
    case 'payment-refunded':
      // A void answered with a refund (the provider had captured after all) settles the payment too.
      return acknowledge({ ...order, refunded: order.status === 'CANCELLING' ? event.amount : order.refunded }, ['refund-payment', 'void-payment'], now, 'payment-refunded');
    case 'stock-restocked':
      return acknowledge(order, ['restock'], now, 'restocked');
  }
}

/**
 * The order has waited past its deadline. A forward step in flight: undo everything that may have
 * happened, including that step. Compensations still unacknowledged: send them again (the
 * receiving modules ignore a repeat), waiting twice as long each time up to a ceiling.
 */
export function applyTimeout(order: Order, now: Date, stepTimeoutMs: number): Transition {
  if (order.stepDeadline === null || order.stepDeadline > now) return unchanged(order);
  if (order.status === 'CANCELLING' && order.pendingCompensations.length > 0) return resendCompensations(order, now, stepTimeoutMs);
  if (order.currentStep === null) return unchanged(order);
  return beginCompensation(order, compensationsFor(order.startedSteps), `timeout: ${order.currentStep}`, now, 'timed-out', stepTimeoutMs);
}

/** The owner or an admin cancels: before capture the hold is voided, after it the money is refunded and stock returned. */
export function requestCancellation(order: Order, now: Date, stepTimeoutMs: number): Transition {
  if (order.status === 'CANCELLING' || order.status === 'CANCELLED') throw new OrderNotCancellableError(order.id, order.status);
  return beginCompensation(order, compensationsFor(order.startedSteps), 'cancelled by request', now, 'cancel-requested', stepTimeoutMs);
}

/** Re-sends after which a cancelling order is reported as stuck, to be looked at by an operator. */
export const compensationResendsBeforeAlarm = 5;

/** The wait after a re-send grows up to this many step timeouts. */
const longestCompensationWait = 64;

const resentStep = 'compensations-resent';

/** How many times the order's pending compensations were sent again, counted on its timeline. */
export function compensationResends(order: Order): number {
  return order.timeline.filter((entry) => entry.step === resentStep).length;
}

/** A cancelling order whose compensations went unanswered through every re-send: money or stock may be held, an operator must look. */
export function needsAttention(order: Order): boolean {
  return order.status === 'CANCELLING' && compensationResends(order) >= compensationResendsBeforeAlarm;
}

function resendCompensations(order: Order, now: Date, stepTimeoutMs: number): Transition {
  const resends = compensationResends(order) + 1;
  const waitMs = stepTimeoutMs * Math.min(2 ** resends, longestCompensationWait);
  const reason = order.cancellationReason ?? 'compensation resent';
  return {
    order: {
      ...order,
      stepDeadline: new Date(now.getTime() + waitMs),
      timeline: [...order.timeline, { step: resentStep, at: now, detail: order.pendingCompensations.join(', ') }],
      updatedAt: now,
      version: order.version + 1,
    },
    actions: order.pendingCompensations.map((compensation) => ({ kind: 'compensate', compensation, reason })),
  };
}

function stepSucceeded(order: Order, step: SagaStep, now: Date, stepTimeoutMs: number): Transition {
  if (order.currentStep !== step) return unchanged(order);
  const index = sagaSteps.findIndex((candidate) => candidate.step === step);
  const done = sagaSteps[index];
  const next = sagaSteps[index + 1];
  const timeline = done === undefined ? order.timeline : [...order.timeline, { step: done.succeeded, at: now }];
  if (next === undefined) {
    return {
      order: { ...order, status: 'CONFIRMED', currentStep: null, stepDeadline: null, timeline: [...timeline, { step: 'confirmed', at: now }], updatedAt: now, version: order.version + 1 },
      actions: [{ kind: 'announce-confirmed' }],
    };
  }
  return {
    order: {
      ...order,
      status: next.statusWhileRunning,
      startedSteps: [...order.startedSteps, next.step],
      currentStep: next.step,
      stepDeadline: new Date(now.getTime() + stepTimeoutMs),
      timeline,
      updatedAt: now,
      version: order.version + 1,
    },
    actions: [{ kind: 'start-step', step: next.step }],
  };
}

/**
 * The compensations that undo `steps`, latest first. A refund also releases an authorisation that
 * was never captured, so payment needs one compensation at most; releasing and restocking are
 * harmless where nothing is held.
 */
export function compensationsFor(steps: readonly SagaStep[]): Compensation[] {
  const compensations: Compensation[] = [];
  if (steps.includes('commit-stock')) compensations.push('restock');
  if (steps.includes('capture-payment')) compensations.push('refund-payment');
  else if (steps.includes('authorize-payment')) compensations.push('void-payment');
  if (steps.includes('reserve-stock')) compensations.push('release-stock');
  return compensations;
}

/** Starts undoing; the compensations are awaited until a deadline, like a forward step, and sent again when it passes. */
function beginCompensation(order: Order, compensations: Compensation[], reason: string, now: Date, step: string, stepTimeoutMs: number): Transition {
  const timeline = [...order.timeline, { step, at: now, detail: reason }];
  const base = { ...order, currentStep: null, cancellationReason: reason, updatedAt: now, version: order.version + 1 };
  if (compensations.length === 0) {
    return { order: { ...base, status: 'CANCELLED', stepDeadline: null, pendingCompensations: [], timeline: [...timeline, { step: 'cancelled', at: now }] }, actions: [{ kind: 'announce-cancelled' }] };
  }
  return {
    order: { ...base, status: 'CANCELLING', stepDeadline: new Date(now.getTime() + stepTimeoutMs), pendingCompensations: compensations, timeline },
    actions: compensations.map((compensation) => ({ kind: 'compensate', compensation, reason })),
  };
}

/** Clears the first pending compensation among `matches`; the last one makes the order CANCELLED. */
function acknowledge(order: Order, matches: readonly Compensation[], now: Date, step: string): Transition {
  if (order.status !== 'CANCELLING') return unchanged(order);
  const matched = order.pendingCompensations.find((pending) => matches.includes(pending));
  if (matched === undefined) return unchanged(order);
  const pendingCompensations = order.pendingCompensations.filter((pending) => pending !== matched);
  const timeline = [...order.timeline, { step, at: now }];
  if (pendingCompensations.length > 0) {
    return { order: { ...order, pendingCompensations, timeline, updatedAt: now, version: order.version + 1 }, actions: [] };
  }
  return {
    order: { ...order, status: 'CANCELLED', stepDeadline: null, pendingCompensations, timeline: [...timeline, { step: 'cancelled', at: now }], updatedAt: now, version: order.version + 1 },
    actions: [{ kind: 'announce-cancelled' }],
  };
}
