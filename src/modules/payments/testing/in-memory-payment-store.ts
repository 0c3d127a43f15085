import type {
  ClaimedOperation, LockedPayment, PaymentOperation, PaymentOperationQueue, PaymentRepository, ProviderCallRecord, ProviderPaymentReference,
  SettleResult, WebhookEventStore, WebhookEventTransactions,
} from '../application/ports.ts';
import type { PaymentMessage } from '../application/payment-messages.ts';
import type { OperationKind, OperationResult, Payment, Settlement } from '../domain/payment.ts';

interface StoredOperation extends PaymentOperation {
  dueAt: number;
  claimToken: string | null;
  outcome: string | null;
  detail: string | null;
}

/**
 * Payments, operations, provider calls and published events in memory, for use-case tests. Its
 * clock is the test's: `advance(ms)` makes leased and delayed operations come due.
 */
export class InMemoryPaymentStore implements PaymentRepository, PaymentOperationQueue, WebhookEventStore, WebhookEventTransactions {
  readonly payments = new Map<string, Payment>();
  readonly operations: StoredOperation[] = [];
  readonly calls: ProviderCallRecord[] = [];
  readonly published: PaymentMessage[] = [];
  readonly webhookEvents = new Map<string, unknown>();
  #time = Date.UTC(2026, 0, 1);
  #sequence = 0;

  /** The store's clock, for use cases that take `now`. */
  now = (): Date => new Date(this.#time);

  advance(ms: number): void {
    this.#time += ms;
  }

  operation(orderId: string, kind: OperationKind): StoredOperation | undefined {
    return this.operations.find((operation) => operation.orderId === orderId && operation.kind === kind);
  }

  /** Nothing to wait for: the tests using this store run one command at a time. */
  lockOrder(): Promise<void> {
    return Promise.resolve();
  }

  findPayment(orderId: string): Promise<Payment | undefined> {
    return Promise.resolve(this.payments.get(orderId));
  }

  hasOperation(orderId: string, kinds: readonly OperationKind[]): Promise<boolean> {
    return Promise.resolve(this.operations.some((operation) => operation.orderId === orderId && kinds.includes(operation.kind)));
  }

  addPayment(payment: Payment): Promise<boolean> {
    if (this.payments.has(payment.orderId)) return Promise.resolve(false);
    this.payments.set(payment.orderId, payment);
    return Promise.resolve(true);
  }

  addOperation(orderId: string, kind: OperationKind): Promise<boolean> {
    if (this.operation(orderId, kind) !== undefined) return Promise.resolve(false);
    this.#sequence += 1;
    this.operations.push({ id: this.#sequence, orderId, kind, status: 'pending', attempts: 0, dueAt: this.#time, claimToken: null, outcome: null, detail: null });
    return Promise.resolve(true);
  }

  claimDue(limit: number, leaseMs: number): Promise<ClaimedOperation[]> {
    const due = this.operations
      .filter((operation) => operation.status === 'pending' && operation.dueAt <= this.#time)
      .filter((operation) => !this.operations.some((earlier) => earlier.orderId === operation.orderId && earlier.status === 'pending' && earlier.id < operation.id))
      .sort((a, b) => a.dueAt - b.dueAt || a.id - b.id)
      .slice(0, limit);
    return Promise.resolve(due.map((operation) => {
      operation.attempts += 1;
      operation.claimToken = crypto.randomUUID();
      operation.dueAt = this.#time + leaseMs;
      return {
        id: operation.id, orderId: operation.orderId, kind: operation.kind, attempts: operation.attempts,
        claimToken: operation.claimToken, payment: this.payments.get(operation.orderId),
      };
    }));
  }

  settle(claim: ClaimedOperation, settlement: Settlement, message: PaymentMessage | undefined, call: ProviderCallRecord | undefined): Promise<SettleResult> {
    if (call !== undefined) this.calls.push(call);
    const operation = this.#held(claim);
    if (operation === undefined) return Promise.resolve('claim-lost');
    if (claim.payment !== undefined && this.payments.get(claim.orderId)?.status !== claim.payment.status) {
      operation.claimToken = null;
      operation.dueAt = this.#time;
      return Promise.resolve('payment-moved');
    }
    operation.status = settlement.operation.status;
    operation.outcome = settlement.operation.outcome;
    operation.detail = settlement.operation.detail;
    operation.claimToken = null;
    if (settlement.paymentChanged && settlement.payment !== undefined) this.payments.set(claim.orderId, settlement.payment);
    if (message !== undefined) this.published.push(message);
    return Promise.resolve('settled');
  }

  extendLease(claim: ClaimedOperation, leaseMs: number): Promise<boolean> {
    const operation = this.#held(claim);
    if (operation !== undefined) operation.dueAt = this.#time + leaseMs;
    return Promise.resolve(operation !== undefined);
  }

  retryLater(claim: ClaimedOperation, delayMs: number, call: ProviderCallRecord): Promise<boolean> {
    this.calls.push(call);
    const operation = this.#held(claim);
    if (operation === undefined) return Promise.resolve(false);
    operation.dueAt = this.#time + delayMs;
    operation.claimToken = null;
    operation.detail = call.detail;
    return Promise.resolve(true);
  }

  record(event: { provider: string; eventId: string; type: string; payload: unknown }): Promise<boolean> {
    const key = `${event.provider}:${event.eventId}`;
    if (this.webhookEvents.has(key)) return Promise.resolve(false);
    this.webhookEvents.set(key, event.payload);
    return Promise.resolve(true);
  }

  /** Runs the work at once; a test's steps do not interleave, so there is nothing to isolate. */
  run<T>(work: (events: WebhookEventStore) => Promise<T>): Promise<T> {
    return work(this);
  }

  lockPayment(reference: ProviderPaymentReference): Promise<LockedPayment | undefined> {
    const payment = [...this.payments.values()].find((candidate) => candidate.providerPaymentId === reference.providerPaymentId
      || (candidate.providerPaymentId === null && candidate.orderId === reference.orderId));
    if (payment === undefined) return Promise.resolve(undefined);
    const pendingOperation = this.operations.filter((operation) => operation.orderId === payment.orderId && operation.status === 'pending')
      .sort((a, b) => a.id - b.id)[0];
    return Promise.resolve({ payment, pendingOperation });
  }

  applyChange(payment: Payment, message: PaymentMessage, operation: { id: number; result: OperationResult } | undefined): Promise<void> {
    this.payments.set(payment.orderId, payment);
    const stored = operation === undefined ? undefined : this.operations.find((candidate) => candidate.id === operation.id && candidate.status === 'pending');
    if (stored !== undefined && operation !== undefined) {
      stored.status = operation.result.status;
      stored.outcome = operation.result.outcome;
      stored.detail = operation.result.detail;
      stored.claimToken = null;
    }
    this.published.push(message);
    return Promise.resolve();
  }

  #held(claim: ClaimedOperation): StoredOperation | undefined {
    return this.operations.find((operation) => operation.id === claim.id && operation.status === 'pending' && operation.claimToken === claim.claimToken);
  }
}
