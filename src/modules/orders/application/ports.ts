import type { Order, PricedProduct, SagaStep } from '../domain/order.ts';
import type { SagaAction } from '../domain/order-saga.ts';

/** Orders read outside any transaction. */
export interface OrderReader {
  findById(orderId: string): Promise<Order | undefined>;
  /** The customer's orders, newest first, `limit` after the cursor. */
  listByCustomer(customerId: string, page: { limit: number; after?: OrderCursor }): Promise<{ items: Order[]; next: OrderCursor | null }>;
  /** Ids of orders whose current saga step is past its deadline. */
  findTimedOut(now: Date, limit: number): Promise<string[]>;
}

/** Position after the last order of a page, in (createdAt desc, id desc) order. */
export interface OrderCursor {
  createdAt: Date;
  id: string;
}

/**
 * Order writes inside one transaction. Every write takes the saga actions it causes, and the
 * messages for them commit with it.
 */
export interface OrderStore {
  /** Reads the order and holds it until the transaction ends, so saga steps of one order never interleave. */
  lock(orderId: string): Promise<Order | undefined>;
  insert(order: Order, actions: readonly SagaAction[]): Promise<void>;
  update(order: Order, actions: readonly SagaAction[]): Promise<void>;
  /** Records the order placed under an idempotency key, in the same transaction as the order. */
  completeIdempotencyKey(customerId: string, key: string, order: Order): Promise<void>;
}

/** Runs work in one database transaction. */
export interface OrderTransactions {
  run<T>(work: (store: OrderStore) => Promise<T>): Promise<T>;
}

/** Outcome of claiming an idempotency key for a new request. */
export type IdempotencyClaim =
  | { kind: 'claimed' }
  | { kind: 'replay'; order: Order }
  | { kind: 'different-request' }
  | { kind: 'in-progress' };

/** Idempotency keys of order placement, scoped per customer and expiring. */
export interface IdempotencyKeys {
  /** Claims the key for this request (committed at once, so a concurrent duplicate sees it), or says why not. */
  claim(customerId: string, key: string, requestHash: string): Promise<IdempotencyClaim>;
  /** Gives up a claim whose request failed before placing anything. */
  release(customerId: string, key: string): Promise<void>;
}

/** Prices and names of products at this moment (the catalogue's client). */
export interface PriceCatalog {
  findProducts(skus: readonly string[]): Promise<PricedProduct[]>;
}

/** How a forward saga step ended: its own answer, its deadline, its reservation lapsing, or a cancellation. */
export type SagaStepOutcome = 'succeeded' | 'failed' | 'timed-out' | 'expired' | 'cancelled';

/**
 * What the orders module reports for monitoring (port). Only committed changes are reported, so a
 * transaction that rolls back and is retried counts once.
 */
export interface OrderMetrics {
  /** An order was accepted (a replay of its idempotency key is not a new order). */
  orderPlaced(): void;
  /** A forward step ended after `seconds` since it started. */
  sagaStepEnded(step: SagaStep, outcome: SagaStepOutcome, seconds: number): void;
  /** An order began compensating; `cause` is one of a few fixed names (`authorize-payment-failed`, `timed-out`, ...). */
  cancellationStarted(cause: string): void;
  /** An order reached a terminal status. */
  orderFinished(status: 'CONFIRMED' | 'CANCELLED'): void;
}
