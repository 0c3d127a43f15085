import type { ColumnType, Insertable, Selectable } from 'kysely';
import type { Compensation, Order, OrderLine, OrderStatus, SagaStep, TimelineEntry } from '../../domain/order.ts';

/** The `orders.orders` table as stored. */
export interface OrdersTable {
  id: string;
  customer_id: string;
  customer_email: string;
  status: OrderStatus;
  // jsonb columns are written as JSON text: pg would turn a JavaScript array into a PostgreSQL array.
  lines: ColumnType<OrderLine[], string, string>;
  total_amount: number;
  currency: string;
  payment_token: string;
  started_steps: SagaStep[];
  current_step: SagaStep | null;
  step_deadline: Date | null;
  pending_compensations: Compensation[];
  cancellation_reason: string | null;
  refunded_amount: number | null;
  timeline: ColumnType<StoredTimelineEntry[], string, string>;
  created_at: Date;
  updated_at: Date;
  version: number;
  /** When the timeline says the order was confirmed (copied by every write, read by the operations summary). */
  confirmed_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** When the timeline says the order was cancelled, the same way. */
  cancelled_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

/**
 * The `orders.order_search` table: what the admin's list searches by, written once with the order
 * (migration 004 says why it is not on `orders`).
 */
export interface OrderSearchTable {
  order_id: string;
  created_at: Date;
  customer_email_lower: string;
}

/** The `orders.order_search_skus` table: one row per SKU of an order, written once with it. */
export interface OrderSearchSkusTable {
  sku: string;
  created_at: Date;
  order_id: string;
}

export interface IdempotencyKeysTable {
  customer_id: string;
  key: string;
  request_hash: string;
  state: 'in-progress' | 'completed';
  order_snapshot: ColumnType<StoredOrder | null, string | null, string | null>;
  /** Made afresh by every claim (a takeover too); null only for claims made before it existed. */
  claim_token: string | null;
  claimed_at: Date;
  expires_at: Date;
}

// A type alias, not an interface: kysely needs the index signature an alias has.
// eslint-disable-next-line @typescript-eslint/consistent-type-definitions
export type OrdersTables = {
  'orders.orders': OrdersTable;
  'orders.idempotency_keys': IdempotencyKeysTable;
  'orders.order_search': OrderSearchTable;
  'orders.order_search_skus': OrderSearchSkusTable;
};

interface StoredTimelineEntry {
  step: string;
  at: string;
  detail?: string;
}

/** An order as JSON (for the idempotency snapshot): dates as ISO strings. */
export type StoredOrder = Omit<Order, 'timeline' | 'createdAt' | 'updatedAt' | 'stepDeadline'> & {
  timeline: StoredTimelineEntry[];
  createdAt: string;
  updatedAt: string;
  stepDeadline: string | null;
};

export function toRow(order: Order): Insertable<OrdersTable> {
  return {
    id: order.id,
    customer_id: order.customer.id,
    customer_email: order.customer.email,
    status: order.status,
    lines: JSON.stringify(order.lines),
    total_amount: order.total.amount,
    currency: order.total.currency,
    payment_token: order.paymentToken,
    started_steps: [...order.startedSteps],
    current_step: order.currentStep,
    step_deadline: order.stepDeadline,
    pending_compensations: [...order.pendingCompensations],
    cancellation_reason: order.cancellationReason,
    refunded_amount: order.refunded?.amount ?? null,
    timeline: JSON.stringify(order.timeline.map(storeTimelineEntry)),
    created_at: order.createdAt,
    updated_at: order.updatedAt,
    version: order.version,
    confirmed_at: timeOfStep(order, 'confirmed'),
    cancelled_at: timeOfStep(order, 'cancelled'),
  };
}

function timeOfStep(order: Order, step: 'confirmed' | 'cancelled'): Date | null {
  return order.timeline.find((entry) => entry.step === step)?.at ?? null;
}

export function toOrder(row: Selectable<OrdersTable>): Order {
  return {
    id: row.id,
    customer: { id: row.customer_id, email: row.customer_email },
    lines: row.lines,
    total: { amount: row.total_amount, currency: row.currency },
    paymentToken: row.payment_token,
    status: row.status,
    startedSteps: row.started_steps,
    currentStep: row.current_step,
    stepDeadline: row.step_deadline,
    pendingCompensations: row.pending_compensations,
    cancellationReason: row.cancellation_reason,
    refunded: row.refunded_amount === null ? null : { amount: row.refunded_amount, currency: row.currency },
    timeline: row.timeline.map(readTimelineEntry),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: row.version,
  };
}

export function storeOrder(order: Order): StoredOrder {
  return {
    ...order,
    timeline: order.timeline.map(storeTimelineEntry),
    createdAt: order.createdAt.toISOString(),
    updatedAt: order.updatedAt.toISOString(),
    stepDeadline: order.stepDeadline?.toISOString() ?? null,
  };
}

export function readOrder(stored: StoredOrder): Order {
  return {
    ...stored,
    timeline: stored.timeline.map(readTimelineEntry),
    createdAt: new Date(stored.createdAt),
    updatedAt: new Date(stored.updatedAt),
    stepDeadline: stored.stepDeadline === null ? null : new Date(stored.stepDeadline),
  };
}

export function storeTimelineEntry(entry: TimelineEntry): StoredTimelineEntry {
  return { step: entry.step, at: entry.at.toISOString(), ...(entry.detail === undefined ? {} : { detail: entry.detail }) };
}

function readTimelineEntry(entry: StoredTimelineEntry): TimelineEntry {
  return { step: entry.step, at: new Date(entry.at), ...(entry.detail === undefined ? {} : { detail: entry.detail }) };
}
