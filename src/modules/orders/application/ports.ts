import type { ExportedOrderV1 } from '../contract.ts';
import type { Order, OrderStatus, PricedProduct, SagaStep } from '../domain/order.ts';
import type { SagaAction } from '../domain/order-saga.ts';

/** Orders read outside any transaction. */
export interface OrderReader {
  findById(orderId: string): Promise<Order | undefined>;
  /** The customer's orders, newest first, `limit` after the cursor. */
  listByCustomer(customerId: string, page: { limit: number; after?: OrderCursor }): Promise<{ items: Order[]; next: OrderCursor | null }>;
  /** Ids of orders past their deadline: a saga step in flight, or compensations awaited while CANCELLING. */
  findTimedOut(now: Date, limit: number): Promise<string[]>;
  /** How many orders are unfinished (not CONFIRMED or CANCELLED): the backlog of sagas still running. */
  countUnfinished(): Promise<number>;
}

/** What the admin's list of every order may be narrowed to; every filter given must hold. */
export interface OrderFilter {
  status?: OrderStatus;
  /** The customer email the order was placed with, compared without case. */
  email?: string;
  /** Placed at or after this time. */
  from?: Date;
  /** Placed before this time. */
  to?: Date;
  /** Has a line of this SKU (normal form: trimmed, upper case). */
  sku?: string;
  /** Placed by this customer. */
  customerId?: string;
}

/** How many orders something happened to in each minute, by the minute's start. */
export type MinuteCounts = Map<number, number>;

/** Order queries for the people who run OrderStream: every order by filter, and the figures of the operations summary. */
export interface OrderOperationsReader {
  /** Every order matching the filter, newest first, `limit` after the cursor. */
  listAll(filter: OrderFilter, page: { limit: number; after?: OrderCursor }): Promise<{ items: Order[]; next: OrderCursor | null }>;
  /** Orders placed, confirmed and cancelled per minute (keyed by the minute's start, in ms) from `since` on. */
  countPerMinute(since: Date): Promise<{ placed: MinuteCounts; confirmed: MinuteCounts; cancelled: MinuteCounts }>;
  /** The 95th percentile of placed→confirmed seconds of the orders confirmed from `since` on, and how many there were; null without any. */
  confirmationP95(since: Date): Promise<{ seconds: number | null; confirmed: number }>;
}

/** Where an export page ends: the last order's placing time in full precision (PostgreSQL's text of it), and its id. */
export interface ExportPosition {
  placedAt: string;
  orderId: string;
}

/** Orders read for an export: a stable set (placed before a fixed instant), walked newest first in pages. */
export interface OrderExportReader {
  /**
   * At most `limit` orders matching the filter placed before `placedBefore`, after `after`, read as
   * an export writes them (only the fields it writes); `next` is null on the last page.
   */
  page(filter: OrderFilter, placedBefore: Date, page: { limit: number; after?: ExportPosition }): Promise<{ items: ExportedOrderV1[]; next: ExportPosition | null }>;
  /** How many orders match the filter placed before `placedBefore`. */
  count(filter: OrderFilter, placedBefore: Date): Promise<number>;
}

/** Dead letters waiting for an admin in this process's database, per module that consumed them. */
export interface DeadLetterCounts {
  waitingPerModule(): Promise<{ module: string; waiting: number }[]>;
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
  /** Records an administrative act in the audit trail, in this transaction: it commits or rolls back with the act. */
  recordAdminAct(act: AdminAct): Promise<void>;
}

/** An administrative act on orders, as the audit trail keeps it (src/platform/audit). */
export interface AdminAct {
  action: string;
  targetId: string;
  before?: unknown;
  after?: unknown;
}

/** Runs work in one database transaction. */
export interface OrderTransactions {
  run<T>(work: (store: OrderStore) => Promise<T>): Promise<T>;
}

/** What an idempotency key held by another request (or done with) says to this one. */
export type IdempotencyKeyAnswer =
  | { kind: 'replay'; order: Order }
  | { kind: 'different-request' }
  | { kind: 'in-progress' };

/** The idempotency key a request to place an order comes with. */
export interface IdempotencyKeyRequest {
  customerId: string;
  key: string;
  /** A digest of the request body: the same key with another body is refused. */
  requestHash: string;
}

/**
 * Idempotency keys of order placement, scoped per customer and expiring. An order is placed under
 * its key in one step: the key, completed with the order as its answer, commits with the order and
 * its first saga messages or not at all, so a key never names an order that was not placed, and one
 * key never places two. A request that finds the key taken waits for the placement holding it.
 */
export interface IdempotencyKeys {
  /**
   * Places the order under the key; false, with nothing written, when the key is taken: done with
   * and not expired, or claimed in progress (by a version that claimed keys before placing) and not
   * yet abandoned. An expired key, or a claim older than the takeover time, is taken over.
   */
  placeUnderKey(order: Order, request: IdempotencyKeyRequest, actions: readonly SagaAction[]): Promise<boolean>;
  /** What the key says now to a request that does not hold it; undefined when no request holds it. */
  lookUp(customerId: string, key: string, requestHash: string): Promise<IdempotencyKeyAnswer | undefined>;
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
  /** A cancelling order's unanswered compensations were sent again; `needsAttention` once re-sending has not helped (alert on it). */
  compensationsResent(needsAttention: boolean): void;
  /** The unfinished orders were counted; `limit` is where new orders are refused (0: never). */
  backlogSampled(unfinished: number, limit: number): void;
  /** A new order was refused because the backlog was at its limit (nothing was written). */
  orderRefused(): void;
}

/** Where the orders module tells an operator what needs a person (a pino logger fits). */
export interface OperationsLog {
  error(details: object, message: string): void;
}
