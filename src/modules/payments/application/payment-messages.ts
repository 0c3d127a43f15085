import {
  paymentsMessages,
  type PaymentAuthorizedV1, type PaymentCapturedV1, type PaymentCaptureFailedV1,
  type PaymentDeclinedV1, type PaymentRefundedV1, type PaymentVoidedV1,
} from '../contract.ts';
import type { Money, Payment, PaymentEvent } from '../domain/payment.ts';

/** An integration event of payments, ready for the outbox; keyed by order id like every message of an order. */
export type PaymentMessage =
  | { type: typeof paymentsMessages.authorized.type; version: 1; key: string; payload: PaymentAuthorizedV1 }
  | { type: typeof paymentsMessages.declined.type; version: 1; key: string; payload: PaymentDeclinedV1 }
  | { type: typeof paymentsMessages.captured.type; version: 1; key: string; payload: PaymentCapturedV1 }
  | { type: typeof paymentsMessages.captureFailed.type; version: 1; key: string; payload: PaymentCaptureFailedV1 }
  | { type: typeof paymentsMessages.voided.type; version: 1; key: string; payload: PaymentVoidedV1 }
  | { type: typeof paymentsMessages.refunded.type; version: 1; key: string; payload: PaymentRefundedV1 };

/** The integration event announcing `event` for the order's payment. */
export function paymentMessage(orderId: string, payment: Payment | undefined, event: PaymentEvent): PaymentMessage {
  const key = orderId;
  switch (event.type) {
    case 'authorized':
      return { ...paymentsMessages.authorized, key, payload: { orderId, paymentId: requirePayment(payment, event).id, amount: moneyOf(requirePayment(payment, event)) } };
    case 'declined':
      return { ...paymentsMessages.declined, key, payload: { orderId, reason: event.reason } };
    case 'captured':
      return { ...paymentsMessages.captured, key, payload: { orderId, paymentId: requirePayment(payment, event).id, amount: moneyOf(requirePayment(payment, event)) } };
    case 'capture-failed':
      return { ...paymentsMessages.captureFailed, key, payload: { orderId, reason: event.reason } };
    case 'voided':
      return { ...paymentsMessages.voided, key, payload: { orderId } };
    case 'refunded':
      return { ...paymentsMessages.refunded, key, payload: { orderId, amount: moneyOf(requirePayment(payment, event)) } };
  }
}

function requirePayment(payment: Payment | undefined, event: PaymentEvent): Payment {
  if (payment === undefined) throw new Error(`A ${event.type} event needs the order's payment`);
  return payment;
}

function moneyOf(payment: Payment): Money {
  return { amount: payment.amount.amount, currency: payment.amount.currency };
}
