import type { Page, PaymentOperationRecords, PaymentOperationView, RetryCandidate } from '../application/ports.ts';
import type { InMemoryPaymentStore } from './in-memory-payment-store.ts';

/**
 * The admin's view of an `InMemoryPaymentStore`'s operations, for use-case tests. The store keeps no
 * timestamps, so every operation reads as created and updated at the store's current time.
 */
export class InMemoryPaymentOperationRecords implements PaymentOperationRecords {
  readonly #store: InMemoryPaymentStore;

  constructor(store: InMemoryPaymentStore) {
    this.#store = store;
  }

  list(query: Parameters<PaymentOperationRecords['list']>[0]): Promise<Page<PaymentOperationView>> {
    const { after, status, orderId } = query;
    const matching = this.#store.operations
      .filter((operation) => (status === undefined || operation.status === status) && (orderId === undefined || operation.orderId === orderId))
      .filter((operation) => after === undefined || operation.id > after.id)
      .sort((a, b) => a.id - b.id)
      .map((operation) => this.#view(operation.id))
      .filter((view) => view !== undefined);
    const items = matching.slice(0, query.limit);
    const last = items.at(-1);
    return Promise.resolve({ items, next: matching.length > query.limit && last !== undefined ? { createdAt: last.createdAt, id: last.id } : null });
  }

  findForRetry(id: number): Promise<RetryCandidate | undefined> {
    const operation = this.#view(id);
    if (operation === undefined) return Promise.resolve(undefined);
    const orderGaveUp = this.#store.operations.some((other) => other.orderId === operation.orderId && (other.kind === 'void' || other.kind === 'refund'));
    return Promise.resolve({ operation, payment: this.#store.payments.get(operation.orderId), orderGaveUp });
  }

  requeueFailed(id: number): Promise<PaymentOperationView | undefined> {
    const stored = this.#store.operations.find((operation) => operation.id === id && operation.status === 'failed');
    const gaveUp = (orderId: string) => this.#store.operations.some((other) => other.orderId === orderId && (other.kind === 'void' || other.kind === 'refund'));
    if (stored === undefined || (stored.kind !== 'void' && stored.kind !== 'refund' && gaveUp(stored.orderId))) return Promise.resolve(undefined);
    stored.status = 'pending';
    stored.attempts = 0;
    stored.dueAt = this.#store.now().getTime();
    stored.claimToken = null;
    stored.outcome = null;
    return Promise.resolve(this.#view(id));
  }

  #view(id: number): PaymentOperationView | undefined {
    const operation = this.#store.operations.find((candidate) => candidate.id === id);
    if (operation === undefined) return undefined;
    const payment = this.#store.payments.get(operation.orderId);
    const now = this.#store.now();
    return {
      id: operation.id, orderId: operation.orderId, kind: operation.kind, status: operation.status, attempts: operation.attempts,
      outcome: operation.outcome, lastError: operation.detail, createdAt: now, updatedAt: now, finishedAt: operation.status === 'pending' ? null : now,
      payment: payment === undefined ? undefined : { amount: payment.amount, status: payment.status },
    };
  }
}
