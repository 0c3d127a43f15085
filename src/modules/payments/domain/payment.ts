import { backoffDelayMs } from '../../../kernel/backoff.ts';
import { moneyProblem, type Money } from '../../../kernel/money.ts';
import { InvalidPaymentError } from './payment.errors.ts';

export type { Money } from '../../../kernel/money.ts';

/**
 * Where one order's payment stands. `pending` until the provider answers the authorisation;
 * `authorized` while money is held; the others are where a payment ends.
 */
export type PaymentStatus = 'pending' | 'authorized' | 'declined' | 'captured' | 'voided' | 'refunded';

export type DeclineReason = 'card-declined' | 'insufficient-funds' | 'invalid-token' | 'provider-error';

/** The one payment of an order. */
export interface Payment {
  readonly id: string;
  readonly orderId: string;
  readonly amount: Money;
  /** The card token the customer gave; the provider is asked to authorise against it. */
  readonly token: string;
  readonly status: PaymentStatus;
  /** The provider's id of the authorisation, once it exists. */
  readonly providerPaymentId: string | null;
  readonly declineReason: DeclineReason | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** What other modules asked of an order's payment; an order has at most one operation of each kind. */
export type OperationKind = 'authorize' | 'capture' | 'void' | 'refund';

export const operationKinds: readonly OperationKind[] = ['authorize', 'capture', 'void', 'refund'];

/** A request made to the payment provider. An operation may make a different call than its kind (a refund of an uncaptured payment voids). */
export type ProviderCall = 'authorize' | 'capture' | 'void' | 'refund';

/** What the provider answered, as a value; transient failures are errors, not outcomes. */
export type ProviderOutcome =
  | { readonly outcome: 'authorized'; readonly providerPaymentId: string }
  | { readonly outcome: 'declined'; readonly reason: DeclineReason }
  | { readonly outcome: 'succeeded' }
  /** The provider refused for good (e.g. an expired authorisation); retrying would not help. */
  | { readonly outcome: 'failed'; readonly reason: string };

/** A payment's state as the provider reports it on lookup; `unknown` when the provider does not know it. */
export type ProviderPaymentState = 'authorized' | 'captured' | 'voided' | 'refunded' | 'unknown';

/** What happened to a payment, in the words of the events other modules receive. */
export type PaymentEvent =
  | { readonly type: 'authorized' }
  | { readonly type: 'declined'; readonly reason: DeclineReason }
  | { readonly type: 'captured' }
  | { readonly type: 'capture-failed'; readonly reason: string }
  | { readonly type: 'voided' }
  | { readonly type: 'refunded' };

/** How an operation ends: `done` answered the request (even with a decline); `failed` needs an admin. */
export interface OperationResult {
  readonly status: 'done' | 'failed';
  /** Short label: the event it caused (`authorized`, `capture-failed`, …), `skipped` or `failed`. */
  readonly outcome: string;
  readonly detail: string | null;
}

/** The end of an operation: the payment after it, the event to emit, and the operation's own result. */
export interface Settlement {
  readonly payment: Payment | undefined;
  /** True when `payment` differs from the stored one and must be written. */
  readonly paymentChanged: boolean;
  readonly event: PaymentEvent | undefined;
  readonly operation: OperationResult;
}

/** Either the provider must be called, or the operation can be settled from the payment's state alone. */
export type OperationPlan =
  | { readonly type: 'call'; readonly call: ProviderCall }
  | { readonly type: 'settle'; readonly settlement: Settlement };

const maxTokenLength = 255;
const maxOrderIdLength = 128;

export interface NewPayment {
  orderId: string;
  amount: Money;
  token: string;
}

/**
 * Creates the payment of an order, enforcing the rules on amount, currency and token.
 * `status` is `voided` when the order gave up before the authorisation was even requested.
 */
export function createPayment(input: NewPayment, id: string, now: Date, status: 'pending' | 'voided' = 'pending'): Payment {
  requireOrderId(input.orderId);
  const problem = moneyProblem(input.amount.amount, input.amount.currency);
  if (problem !== undefined) throw new InvalidPaymentError(`amount.${problem.part}`, problem.message);
  if (input.token.trim().length === 0 || input.token.length > maxTokenLength) {
    throw new InvalidPaymentError('token', `must be 1-${maxTokenLength} characters`);
  }
  return {
    id,
    orderId: input.orderId,
    amount: { amount: input.amount.amount, currency: input.amount.currency },
    token: input.token,
    status,
    providerPaymentId: null,
    declineReason: null,
    createdAt: now,
    updatedAt: now,
  };
}

/** An order id as payments accepts it: opaque, 1-128 characters. */
export function requireOrderId(orderId: string): string {
  if (orderId.length === 0 || orderId.length > maxOrderIdLength) {
    throw new InvalidPaymentError('orderId', `must be 1-${maxOrderIdLength} characters`);
  }
  return orderId;
}

/**
 * The idempotency key of a provider call: one per order and call, so a repeated call (a retry, a
 * crash mid-call, a duplicated command) can never take effect twice at the provider.
 */
export function idempotencyKey(orderId: string, call: ProviderCall): string {
  return `${orderId}:${call}`;
}

/**
 * Why an admin may not run a failed operation again, or undefined when it may. The worker plans a
 * retried operation from the payment as it stands then, so a void or refund always applies: it
 * releases a hold, refunds a capture, or reports the money already back so the order's
 * compensation completes. An authorisation or capture no longer applies once the order gave up on
 * its payment (asked for a void or refund) or the payment moved on: running it would hold or take
 * money for an order that is being cancelled.
 */
export function whyNotRetryable(kind: OperationKind, payment: Payment | undefined, orderGaveUp: boolean): string | undefined {
  if (kind === 'void' || kind === 'refund') return undefined;
  if (orderGaveUp) return `the order has asked for its payment to be voided or refunded; a ${kind} no longer applies`;
  const needed: PaymentStatus = kind === 'authorize' ? 'pending' : 'authorized';
  if (payment === undefined) return `the order has no payment to ${kind}`;
  if (payment.status !== needed) return `the payment is ${payment.status}; a ${kind} needs it ${needed}`;
  return undefined;
}

/**
 * What the provider says happened to a payment on its own initiative (a webhook event), whether or
 * not an answer of ours reported it already.
 */
export type ProviderReport =
  | { readonly state: 'authorized'; readonly providerPaymentId: string }
  | { readonly state: 'declined'; readonly reason: DeclineReason }
  | { readonly state: 'captured' | 'voided' | 'refunded' };

/**
 * How long a provider call waits after a transient failure: the shared backoff with jitter (attempt n
 * waits between half and all of base × 2^(n−1)), never longer than `maxMs`.
 */
export function retryDelayMs(baseMs: number, attempt: number, random: () => number = Math.random, maxMs?: number): number {
  return backoffDelayMs({ baseDelayMs: baseMs, maxDelayMs: maxMs }, attempt, random);
}
