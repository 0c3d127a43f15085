import type { AuthorizePaymentV1 } from '../contract.ts';
import type { Payment } from '../domain/payment.ts';

let sequence = 0;

/** A unique order id, so tests sharing a database never meet. */
export function anOrderId(): string {
  sequence += 1;
  return `ord_${process.pid}_${sequence}_${crypto.randomUUID().slice(0, 8)}`;
}

/** A valid authorisation command for a fresh order; override only what a test is about. */
export function anAuthorizeCommand(overrides: Partial<AuthorizePaymentV1> = {}): AuthorizePaymentV1 {
  return { orderId: anOrderId(), amount: { amount: 4200, currency: 'EUR' }, token: 'tok_visa', ...overrides };
}

/** A stored payment in any state; override only what a test is about. */
export function aPayment(overrides: Partial<Payment> = {}): Payment {
  const at = new Date('2026-01-01T00:00:00.000Z');
  return {
    id: `pay_${crypto.randomUUID()}`, orderId: anOrderId(), amount: { amount: 4200, currency: 'EUR' }, token: 'tok_visa',
    status: 'pending', providerPaymentId: null, declineReason: null, createdAt: at, updatedAt: at,
    ...overrides,
  };
}
