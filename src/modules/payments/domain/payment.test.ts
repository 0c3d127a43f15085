import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidPaymentError } from './payment.errors.ts';
import { applyProviderOutcome, applyProviderReport, giveUp, planOperation } from './payment-transitions.ts';
import { createPayment, idempotencyKey, retryDelayMs, type NewPayment, type OperationKind, type Payment, type PaymentStatus } from './payment.ts';

const now = new Date('2026-01-02T03:04:05.000Z');
const later = new Date('2026-01-02T03:05:00.000Z');
const valid: NewPayment = { orderId: 'ord_1', amount: { amount: 4200, currency: 'EUR' }, token: 'tok_visa' };

function paymentIn(status: PaymentStatus): Payment {
  return { ...createPayment(valid, 'pay_1', now), status, providerPaymentId: status === 'pending' || status === 'declined' ? null : 'pi_1' };
}

function invalidField(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (error instanceof InvalidPaymentError) return error.field;
    throw error;
  }
  assert.fail('expected an InvalidPaymentError');
}

describe('createPayment', () => {
  test('when the command is valid, then the payment is pending with nothing at the provider yet', () => {
    const payment = createPayment(valid, 'pay_1', now);
    assert.equal(payment.status, 'pending');
    assert.deepEqual(payment.amount, { amount: 4200, currency: 'EUR' });
    assert.equal(payment.providerPaymentId, null);
  });

  test('when the amount is fractional or negative, the currency unknown or the token blank, then it is rejected', () => {
    assert.equal(invalidField(() => createPayment({ ...valid, amount: { amount: 10.5, currency: 'EUR' } }, 'p', now)), 'amount.amount');
    assert.equal(invalidField(() => createPayment({ ...valid, amount: { amount: -1, currency: 'EUR' } }, 'p', now)), 'amount.amount');
    assert.equal(invalidField(() => createPayment({ ...valid, amount: { amount: 1, currency: 'XYZ' } }, 'p', now)), 'amount.currency');
    assert.equal(invalidField(() => createPayment({ ...valid, token: '  ' }, 'p', now)), 'token');
    assert.equal(invalidField(() => createPayment({ ...valid, orderId: '' }, 'p', now)), 'orderId');
  });
});

describe('idempotencyKey', () => {
  test('when derived for an order and a call, then it names both and differs per call', () => {
    assert.equal(idempotencyKey('order_123', 'authorize'), 'order_123:authorize');
    assert.notEqual(idempotencyKey('order_123', 'capture'), idempotencyKey('order_123', 'refund'));
  });
});

describe('planOperation', () => {
  const calls: [OperationKind, PaymentStatus, string][] = [
    ['authorize', 'pending', 'authorize'],
    ['capture', 'authorized', 'capture'],
    ['void', 'authorized', 'void'],
    ['void', 'captured', 'refund'],
    ['refund', 'captured', 'refund'],
    ['refund', 'authorized', 'void'],
  ];
  for (const [kind, status, call] of calls) {
    test(`when ${kind === 'authorize' ? 'an' : 'a'} ${kind} finds the payment ${status}, then the provider is asked to ${call}`, () => {
      assert.deepEqual(planOperation(kind, paymentIn(status), later), { type: 'call', call });
    });
  }

  const settled: [OperationKind, PaymentStatus | undefined, string][] = [
    ['void', 'declined', 'voided'],
    ['void', undefined, 'voided'],
    ['refund', 'declined', 'voided'],
    ['refund', 'voided', 'voided'],
    ['refund', 'refunded', 'refunded'],
    ['capture', 'declined', 'capture-failed'],
    ['capture', 'voided', 'capture-failed'],
    ['capture', undefined, 'capture-failed'],
  ];
  for (const [kind, status, event] of settled) {
    test(`when a ${kind} finds ${status === undefined ? 'no payment' : `the payment ${status}`}, then it ends with ${event} and no provider call`, () => {
      const plan = planOperation(kind, status === undefined ? undefined : paymentIn(status), later);
      assert.equal(plan.type, 'settle');
      assert.equal(plan.settlement.event?.type, event);
      assert.equal(plan.settlement.paymentChanged, false);
      assert.equal(plan.settlement.operation.status, 'done');
    });
  }

  for (const kind of ['void', 'refund'] as const) {
    test(`when a ${kind} finds the authorisation not yet made, then the payment is closed as voided and the authorisation after it is skipped`, () => {
      const plan = planOperation(kind, paymentIn('pending'), later);
      assert.equal(plan.type, 'settle');
      assert.equal(plan.settlement.event?.type, 'voided');
      assert.equal(plan.settlement.paymentChanged, true);
      assert.equal(plan.settlement.payment?.status, 'voided');
      assert.equal(plan.settlement.operation.status, 'done');
      const authorize = planOperation('authorize', plan.settlement.payment, later);
      assert.equal(authorize.type, 'settle');
      assert.equal(authorize.settlement.operation.outcome, 'skipped');
    });
  }

  test('when an authorisation finds the payment already decided, then it is skipped without an event', () => {
    const plan = planOperation('authorize', paymentIn('voided'), later);
    assert.equal(plan.type, 'settle');
    assert.equal(plan.settlement.operation.outcome, 'skipped');
    assert.equal(plan.settlement.event, undefined);
  });
});

describe('applyProviderOutcome', () => {
  test('when the provider authorises, then the payment holds its provider id and an authorized event follows', () => {
    const settlement = applyProviderOutcome(paymentIn('pending'), 'authorize', { outcome: 'authorized', providerPaymentId: 'pi_9' }, later);
    assert.equal(settlement.payment?.status, 'authorized');
    assert.equal(settlement.payment.providerPaymentId, 'pi_9');
    assert.equal(settlement.payment.updatedAt, later);
    assert.deepEqual(settlement.event, { type: 'authorized' });
  });

  test('when the provider declines for funds, then the payment is declined with that reason', () => {
    const settlement = applyProviderOutcome(paymentIn('pending'), 'authorize', { outcome: 'declined', reason: 'insufficient-funds' }, later);
    assert.equal(settlement.payment?.status, 'declined');
    assert.deepEqual(settlement.event, { type: 'declined', reason: 'insufficient-funds' });
  });

  test('when a capture is refused for good, then capture-failed carries the reason and the hold stays', () => {
    const settlement = applyProviderOutcome(paymentIn('authorized'), 'capture', { outcome: 'failed', reason: 'charge_expired_for_capture' }, later);
    assert.deepEqual(settlement.event, { type: 'capture-failed', reason: 'charge_expired_for_capture' });
    assert.equal(settlement.paymentChanged, false);
  });

  test('when a void is refused for good, then the operation fails for an admin and no event is emitted', () => {
    const settlement = applyProviderOutcome(paymentIn('authorized'), 'void', { outcome: 'failed', reason: 'payment_intent_unexpected_state' }, later);
    assert.equal(settlement.operation.status, 'failed');
    assert.equal(settlement.event, undefined);
  });

  test('when a refund (asked as a void after capture) succeeds, then the payment is refunded', () => {
    const settlement = applyProviderOutcome(paymentIn('captured'), 'refund', { outcome: 'succeeded' }, later);
    assert.equal(settlement.payment?.status, 'refunded');
    assert.deepEqual(settlement.event, { type: 'refunded' });
  });
});

describe('giveUp', () => {
  test('when an authorisation keeps failing transiently, then it is declined as provider-error', () => {
    const settlement = giveUp(paymentIn('pending'), 'authorize', 'timeout', later);
    assert.deepEqual(settlement.event, { type: 'declined', reason: 'provider-error' });
    assert.equal(settlement.payment?.declineReason, 'provider-error');
  });

  test('when a capture keeps failing transiently, then capture-failed is emitted', () => {
    assert.deepEqual(giveUp(paymentIn('authorized'), 'capture', 'timeout', later).event, { type: 'capture-failed', reason: 'provider-error' });
  });

  test('when a void or refund keeps failing transiently, then the operation fails for an admin without an event', () => {
    for (const call of ['void', 'refund'] as const) {
      const settlement = giveUp(paymentIn('authorized'), call, 'timeout', later);
      assert.equal(settlement.operation.status, 'failed');
      assert.equal(settlement.event, undefined);
    }
  });
});

describe('applyProviderReport', () => {
  const moves = [
    ['pending', { state: 'authorized', providerPaymentId: 'pi_9' }, 'authorize', 'authorized', 'authorized'],
    ['pending', { state: 'declined', reason: 'insufficient-funds' }, 'authorize', 'declined', 'declined'],
    ['authorized', { state: 'captured' }, 'capture', 'captured', 'captured'],
    ['authorized', { state: 'voided' }, 'void', 'voided', 'voided'],
    ['captured', { state: 'refunded' }, 'refund', 'refunded', 'refunded'],
  ] as const;
  for (const [from, report, call, status, event] of moves) {
    test(`when a ${from} payment is reported ${report.state}, then it becomes ${status} as the answer to a ${call} would make it, with ${event}`, () => {
      const change = applyProviderReport(paymentIn(from), report, later);
      assert.equal(change?.call, call);
      assert.equal(change.settlement.paymentChanged, true);
      assert.equal(change.settlement.payment?.status, status);
      assert.equal(change.settlement.payment.updatedAt, later);
      assert.equal(change.settlement.event?.type, event);
    });
  }

  test('when a pending payment is reported authorized, then it keeps the provider id of the report', () => {
    assert.equal(applyProviderReport(paymentIn('pending'), { state: 'authorized', providerPaymentId: 'pi_9' }, later)?.settlement.payment?.providerPaymentId, 'pi_9');
  });

  const stale = [
    ['authorized', { state: 'authorized', providerPaymentId: 'pi_1' }],
    ['captured', { state: 'authorized', providerPaymentId: 'pi_1' }],
    ['captured', { state: 'captured' }],
    ['refunded', { state: 'captured' }],
    ['voided', { state: 'voided' }],
    ['refunded', { state: 'refunded' }],
    ['authorized', { state: 'refunded' }],
    ['pending', { state: 'captured' }],
    ['declined', { state: 'voided' }],
  ] as const;
  for (const [from, report] of stale) {
    test(`when a ${from} payment is reported ${report.state}, then nothing changes (already there, or out of order)`, () => {
      assert.equal(applyProviderReport(paymentIn(from), report, later), undefined);
    });
  }
});

describe('retryDelayMs', () => {
  test('when attempts grow, then the delay doubles, jittered between half and all of it', () => {
    assert.equal(retryDelayMs(100, 1, () => 0), 50);
    assert.equal(retryDelayMs(100, 1, () => 1), 100);
    assert.equal(retryDelayMs(100, 3, () => 0), 200);
    assert.equal(retryDelayMs(100, 3, () => 1), 400);
  });
});
