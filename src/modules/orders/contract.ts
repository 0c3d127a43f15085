/** What the orders module promises other modules: its integration events, keyed by order id. */

import type { Money } from '../../kernel/money.ts';

/** Money as it crosses module boundaries, `{ amount, currency }`: the shared Money, whose shape is frozen. */
export type MoneyV1 = Money;

export interface CustomerV1 {
  id: string;
  email: string;
}

export interface OrderLineV1 {
  sku: string;
  name: string;
  quantity: number;
  unitPrice: MoneyV1;
  lineTotal: MoneyV1;
}

/** Event `orders.placed`: an order was accepted and its saga starts. */
export interface OrderPlacedV1 {
  orderId: string;
  customer: CustomerV1;
  lines: OrderLineV1[];
  total: MoneyV1;
  placedAt: string;
}

/** Event `orders.confirmed`: stock committed and payment captured. */
export interface OrderConfirmedV1 {
  orderId: string;
  customer: CustomerV1;
  lines: OrderLineV1[];
  total: MoneyV1;
  confirmedAt: string;
}

/** Event `orders.cancelled`: the order ended without a sale; `refunded` is set when money went back. */
export interface OrderCancelledV1 {
  orderId: string;
  customer: CustomerV1;
  reason: string;
  total: MoneyV1;
  refunded: MoneyV1 | null;
  cancelledAt: string;
}

export const ordersEvents = {
  placed: { type: 'orders.placed', version: 1 },
  confirmed: { type: 'orders.confirmed', version: 1 },
  cancelled: { type: 'orders.cancelled', version: 1 },
} as const;

/** What an order export may be narrowed to; every filter given must hold. */
export interface OrderExportFilterV1 {
  status?: 'PENDING' | 'RESERVED' | 'AUTHORIZED' | 'CONFIRMED' | 'CANCELLING' | 'CANCELLED';
  /** Placed at or after this instant (ISO 8601). */
  from?: string;
  /** Placed before this instant (ISO 8601). */
  to?: string;
  customerId?: string;
  /** The customer email the order was placed with, compared without case. */
  email?: string;
  /** Has a line of this SKU. */
  sku?: string;
}

/** Where an export page ends, in full precision: the next page starts after this order. */
export interface OrderExportPositionV1 {
  /** The order's placing time exactly as the orders module stores it (not rounded to milliseconds). */
  placedAt: string;
  orderId: string;
}

/** One order as an export writes it. */
export interface ExportedOrderV1 {
  id: string;
  status: string;
  customerId: string;
  customerEmail: string;
  lines: { sku: string; quantity: number; lineTotal: MoneyV1 }[];
  total: MoneyV1;
  refunded: MoneyV1 | null;
  cancellationReason: string | null;
  createdAt: string;
  updatedAt: string;
}

/** Largest page an export may ask for. */
export const maxOrderExportPage = 10_000;

/** The orders module's client for exports (the jobs module); in-process in one process, HTTP between services. */
export interface OrdersExportClient {
  /**
   * Orders matching the filter placed before `placedBefore`, newest first, at most `limit` after
   * `after`; `next` is null on the last page. With `count`, also how many match in all (the first
   * page's question, for progress).
   */
  exportPage(query: {
    filter: OrderExportFilterV1; placedBefore: string; after?: OrderExportPositionV1; limit: number; count?: boolean;
  }): Promise<{ items: ExportedOrderV1[]; next: OrderExportPositionV1 | null; total?: number }>;
}
