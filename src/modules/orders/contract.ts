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
