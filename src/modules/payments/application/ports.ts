import type { Money, OperationKind, OperationResult, Payment, PaymentStatus, ProviderCall, ProviderOutcome, ProviderPaymentState, Settlement } from '../domain/payment.ts';

export type { ProviderPaymentState } from '../domain/payment.ts';
import type { PaymentMessage } from './payment-messages.ts';

/**
 * A payment gateway (port). Every call carries an idempotency key derived from the order and the
 * call, so repeating it returns the first answer instead of acting twice. Answers are values; a
 * transient failure (timeout, 5xx, network) is thrown as `PaymentProviderUnavailableError`.
 */
export interface PaymentProvider {
  /** Holds `amount` on the card behind `token`; `failed` when the provider refuses the request itself (not the card). */
  authorize(request: { orderId: string; amount: Money; token: string; idempotencyKey: string }): Promise<AuthorizeOutcome>;
  /** Takes the held amount. */
  capture(request: { orderId: string; providerPaymentId: string; amount: Money; idempotencyKey: string }): Promise<ChangeOutcome>;
  /** Releases the hold. */
  void(request: { orderId: string; providerPaymentId: string; idempotencyKey: string }): Promise<ChangeOutcome>;
  /** Gives the captured amount back. */
  refund(request: { orderId: string; providerPaymentId: string; amount: Money; idempotencyKey: string }): Promise<ChangeOutcome>;
  /**
   * Where the provider says the payment stands, for a call whose answer was lost (timeouts): a
   * capture that took effect must be reported as one, not as a failure. `unknown` when the provider
   * does not know the payment.
   */
  lookup(request: { orderId: string; providerPaymentId: string }): Promise<ProviderPaymentState>;
  /**
   * The authorisation the provider made for an order (under the authorisation's idempotency key),
   * for an authorisation whose answers kept getting lost: it may have taken effect, and a hold nobody
   * knows of would stay on the card. Undefined when the provider holds none for the order.
   */
  findAuthorization(request: { orderId: string; idempotencyKey: string }): Promise<FoundAuthorization | undefined>;
}

/** An authorisation found at the provider, and where it stands. */
export interface FoundAuthorization {
  providerPaymentId: string;
  state: ProviderPaymentState;
}

export type AuthorizeOutcome = Extract<ProviderOutcome, { outcome: 'authorized' | 'declined' | 'failed' }>;
export type ChangeOutcome = Extract<ProviderOutcome, { outcome: 'succeeded' | 'failed' }>;

/** The provider could not answer now (timeout, 5xx, network); the same call may be tried again later. */
export class PaymentProviderUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PaymentProviderUnavailableError';
  }
}

/** An operation waiting for its turn, as stored. */
export interface PaymentOperation {
  id: number;
  orderId: string;
  kind: OperationKind;
  status: 'pending' | 'done' | 'failed';
  attempts: number;
}

/**
 * Records what other modules ask of payments. Used inside the transaction of the message that
 * asked, so the request is recorded exactly when the message counts as handled.
 */
export interface PaymentRepository {
  /**
   * Makes the other commands of this order wait until the transaction ends, so one command reads
   * what another wrote: an authorisation and a void delivered at once must not both miss each other
   * (the void would find nothing to release, and the authorisation then hold money nobody releases).
   */
  lockOrder(orderId: string): Promise<void>;
  findPayment(orderId: string): Promise<Payment | undefined>;
  /** True when the order has an operation of one of these kinds, finished or not. */
  hasOperation(orderId: string, kinds: readonly OperationKind[]): Promise<boolean>;
  /** Adds the payment unless the order has one; false when it had. */
  addPayment(payment: Payment): Promise<boolean>;
  /** Queues an operation, due now, unless the order has one of this kind; false when it had. */
  addOperation(orderId: string, kind: OperationKind): Promise<boolean>;
}

export type SettleResult = 'settled' | 'claim-lost' | 'payment-moved';

/** An operation taken by one worker until its lease ends; only the holder of `claimToken` may settle it. */
export interface ClaimedOperation {
  id: number;
  orderId: string;
  kind: OperationKind;
  /** Attempts including this one. */
  attempts: number;
  claimToken: string;
  /** The order's payment as it was when the operation was claimed. */
  payment: Payment | undefined;
  /** Trace context (W3C traceparent) of the command that queued it, for the worker's span; opaque here. */
  traceparent?: string;
}

/** One request to the provider, for the provider-calls log. */
export interface ProviderCallRecord {
  operationId: number;
  orderId: string;
  call: ProviderCall;
  idempotencyKey: string;
  attempt: number;
  /** `authorized`, `declined`, `succeeded`, `failed` or `transient-error`. */
  outcome: string;
  detail: string | null;
  durationMs: number;
  calledAt: Date;
}

/**
 * The queue of operations the worker runs. Claims are leased, and the lease is renewed while the
 * call runs: an operation whose worker died mid-call becomes due again soon after (the idempotency
 * key makes the repeat safe), however long a healthy call may take.
 */
export interface PaymentOperationQueue {
  /**
   * Claims up to `limit` due operations, never two of one order, and never one while an earlier
   * operation of its order is unfinished, so an order's operations run in the order requested.
   */
  claimDue(limit: number, leaseMs: number): Promise<ClaimedOperation[]>;
  /**
   * In one transaction: the operation's result, the payment's new state, the provider call (when
   * one was made) and the event. Writes only the call when the claim was lost (`claim-lost`), or
   * when the payment's status is no longer the one the operation was planned from (a webhook moved
   * it while the call was in flight): then the operation is released, due at once, to be planned
   * again from the payment as it stands (`payment-moved`).
   */
  settle(claim: ClaimedOperation, settlement: Settlement, message: PaymentMessage | undefined, call: ProviderCallRecord | undefined): Promise<SettleResult>;
  /** Pushes the lease of a claim still being worked on `leaseMs` into the future; false when the claim was lost. */
  extendLease(claim: ClaimedOperation, leaseMs: number): Promise<boolean>;
  /** Makes the operation due again after `delayMs`, recording the failed call. False when the claim was lost. */
  retryLater(claim: ClaimedOperation, delayMs: number, call: ProviderCallRecord): Promise<boolean>;
}

/** Position after the last item of a page; operations are listed in id order, which follows creation. */
export interface PageCursor {
  createdAt: Date;
  id: number;
}

export interface Page<Item> {
  items: Item[];
  next: PageCursor | null;
}

/** An operation as an admin sees it: where it stands, its last error, and the payment it acts on. */
export interface PaymentOperationView {
  id: number;
  orderId: string;
  kind: OperationKind;
  status: 'pending' | 'done' | 'failed';
  attempts: number;
  /** How it ended (`failed`, `voided`, …); null while pending. */
  outcome: string | null;
  /** The last error or result detail the worker recorded. */
  lastError: string | null;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
  /** The order's payment; undefined when the order has none. */
  payment: { amount: Money; status: PaymentStatus } | undefined;
}

/** What an admin needs to decide on a retry: the operation, the payment now, and whether the order gave up on its payment. */
export interface RetryCandidate {
  operation: PaymentOperationView;
  payment: Payment | undefined;
  /** The order asked for a void or refund, so it no longer wants money held or taken. */
  orderGaveUp: boolean;
}

/** Payment operations as an admin reads and re-queues them (port). */
export interface PaymentOperationRecords {
  /**
   * Operations oldest first, of one status, of one order, or both. Of all orders only unfinished and
   * failed ones are listed (done ones are the bulk of the table); an order's are listed whatever their status.
   */
  list(query: { status: 'pending' | 'failed'; orderId?: string; after?: PageCursor; limit: number } | { status?: 'pending' | 'failed'; orderId: string; after?: PageCursor; limit: number }): Promise<Page<PaymentOperationView>>;
  findForRetry(id: number): Promise<RetryCandidate | undefined>;
  /**
   * Makes a failed operation pending again, due now, with no attempts. Undefined when it is not
   * failed (any more), or is an authorisation or capture whose order has asked for a void or refund
   * meanwhile: checked in the same statement, so a compensation queued since the read is never overtaken.
   */
  requeueFailed(id: number, act?: AdminAct): Promise<PaymentOperationView | undefined>;
}

/**
 * An administrative act on payments' data, as the audit trail keeps it (src/platform/audit):
 * recorded by the store in the transaction of the write that performs it, and only when it wrote.
 */
export interface AdminAct {
  action: string;
  targetId: string;
  before?: unknown;
  after?: unknown;
}

/** Verified provider webhook events, kept as received, and what they change; used inside one transaction per event. */
export interface WebhookEventStore {
  /** Records the event unless it was received before (providers resend); false when it was. */
  record(event: { provider: string; eventId: string; type: string; payload: unknown }): Promise<boolean>;
  /**
   * The payment the provider's id names (or, before that id is known to us, the order's payment
   * without one), held until the transaction ends together with the first unfinished operation of
   * its order, the only one a worker may be running. Undefined when no payment matches.
   */
  lockPayment(reference: ProviderPaymentReference): Promise<LockedPayment | undefined>;
  /** Writes the payment's new state and its event, and finishes the operation when one is given (its claim, if any, is lost). */
  applyChange(payment: Payment, message: PaymentMessage, operation: { id: number; result: OperationResult } | undefined): Promise<void>;
}

/** How a provider event names a payment: the provider's id, and the order id we sent it (absent on some events). */
export interface ProviderPaymentReference {
  providerPaymentId: string;
  orderId: string | undefined;
}

/** A payment held for a provider event, with the first unfinished operation of its order. */
export interface LockedPayment {
  payment: Payment;
  pendingOperation: PaymentOperation | undefined;
}

/** Runs webhook event work in one database transaction. */
export interface WebhookEventTransactions {
  run<T>(work: (events: WebhookEventStore) => Promise<T>): Promise<T>;
}

/** What the payments module reports for monitoring (port). */
export interface PaymentMetrics {
  /** An operation ended `failed` and waits for an admin (alert on it): a void or refund that did not happen may leave a customer's money held. */
  operationFailed(kind: OperationKind): void;
}

/** Where the application reports what an operator must know (a pino logger fits). */
export interface OperationsLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}
