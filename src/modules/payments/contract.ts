/**
 * What the payments module promises other modules: the commands it obeys and the events it
 * emits, keyed by order id. Every provider call is idempotent per order and operation.
 */

import type { Money } from '../../kernel/money.ts';

/** Money as it crosses module boundaries, `{ amount, currency }`: the shared Money, whose shape is frozen. */
export type MoneyV1 = Money;

/** Command `payments.authorize-payment`: hold `amount` on the card behind `token`. */
export interface AuthorizePaymentV1 {
  orderId: string;
  amount: MoneyV1;
  token: string;
}

/** Command `payments.capture-payment`: take the authorised amount. */
export interface CapturePaymentV1 {
  orderId: string;
}

/** Command `payments.void-payment`: cancel an authorisation (nothing was captured). Harmless when there is none. */
export interface VoidPaymentV1 {
  orderId: string;
  reason: string;
}

/** Command `payments.refund-payment`: give a captured amount back. */
export interface RefundPaymentV1 {
  orderId: string;
  reason: string;
}

export type DeclineReason = 'card-declined' | 'insufficient-funds' | 'invalid-token' | 'provider-error';

/** Event `payments.authorized`. */
export interface PaymentAuthorizedV1 {
  orderId: string;
  paymentId: string;
  amount: MoneyV1;
}

/** Event `payments.declined`: nothing is held. */
export interface PaymentDeclinedV1 {
  orderId: string;
  reason: DeclineReason;
}

/** Event `payments.captured`: the money is taken. */
export interface PaymentCapturedV1 {
  orderId: string;
  paymentId: string;
  amount: MoneyV1;
}

/** Event `payments.capture-failed`: the authorisation could not be captured (e.g. it expired). */
export interface PaymentCaptureFailedV1 {
  orderId: string;
  reason: string;
}

/** Event `payments.voided`: the authorisation is released (or there was none). */
export interface PaymentVoidedV1 {
  orderId: string;
}

/** Event `payments.refunded`: the captured amount went back. */
export interface PaymentRefundedV1 {
  orderId: string;
  amount: MoneyV1;
}

export const paymentsMessages = {
  authorizePayment: { type: 'payments.authorize-payment', version: 1 },
  capturePayment: { type: 'payments.capture-payment', version: 1 },
  voidPayment: { type: 'payments.void-payment', version: 1 },
  refundPayment: { type: 'payments.refund-payment', version: 1 },
  authorized: { type: 'payments.authorized', version: 1 },
  declined: { type: 'payments.declined', version: 1 },
  captured: { type: 'payments.captured', version: 1 },
  captureFailed: { type: 'payments.capture-failed', version: 1 },
  voided: { type: 'payments.voided', version: 1 },
  refunded: { type: 'payments.refunded', version: 1 },
} as const;
