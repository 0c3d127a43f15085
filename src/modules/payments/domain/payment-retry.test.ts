import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { whyNotRetryable, type OperationKind, type Payment, type PaymentStatus } from './payment.ts';

const at = new Date('2026-01-02T03:04:05.000Z');

function payment(status: PaymentStatus): Payment {
  return {
    id: 'pay_1', orderId: 'ord_1', amount: { amount: 4200, currency: 'EUR' }, token: 'tok_visa', status,
    providerPaymentId: status === 'pending' ? null : 'sim_1', declineReason: null, createdAt: at, updatedAt: at,
  };
}

const statuses: PaymentStatus[] = ['pending', 'authorized', 'declined', 'captured', 'voided', 'refunded'];

describe('whyNotRetryable', () => {
  for (const kind of ['void', 'refund'] as const) {
    test(`when a failed ${kind} is retried, then it is allowed whatever the payment's state, since the worker plans it from that state`, () => {
      for (const status of statuses) assert.equal(whyNotRetryable(kind, payment(status), true), undefined, status);
      assert.equal(whyNotRetryable(kind, undefined, true), undefined);
    });
  }

  const allowedOnlyWhen: [OperationKind, PaymentStatus][] = [['capture', 'authorized'], ['authorize', 'pending']];
  for (const [kind, needed] of allowedOnlyWhen) {
    test(`when a failed ${kind} is retried, then it is allowed only while the payment is ${needed} and the order has not given up on it`, () => {
      assert.equal(whyNotRetryable(kind, payment(needed), false), undefined);
      assert.match(whyNotRetryable(kind, payment(needed), true) ?? '', /voided or refunded/);
      for (const status of statuses.filter((other) => other !== needed)) {
        assert.match(whyNotRetryable(kind, payment(status), false) ?? '', new RegExp(`payment is ${status}`), status);
      }
      assert.match(whyNotRetryable(kind, undefined, false) ?? '', /no payment/);
    });
  }
});
