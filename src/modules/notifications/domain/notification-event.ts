import type { Money } from '../../../kernel/money.ts';

export type { Money } from '../../../kernel/money.ts';

/** The order events customers and webhook endpoints are notified of. */
export const notifiedEventTypes = ['orders.confirmed', 'orders.cancelled'] as const;

export type NotifiedEventType = (typeof notifiedEventTypes)[number];

export function isNotifiedEventType(type: string): type is NotifiedEventType {
  return (notifiedEventTypes as readonly string[]).includes(type);
}

export interface OrderLine {
  readonly sku: string;
  readonly name: string;
  readonly quantity: number;
  readonly lineTotal: Money;
}

/** What the customer is told, whatever the channel: the facts an email template needs. */
export type OrderNotice =
  | { readonly kind: 'order-confirmed'; readonly orderId: string; readonly customerEmail: string; readonly lines: readonly OrderLine[]; readonly total: Money }
  | { readonly kind: 'order-cancelled'; readonly orderId: string; readonly customerEmail: string; readonly reason: string; readonly total: Money }
  | { readonly kind: 'order-refunded'; readonly orderId: string; readonly customerEmail: string; readonly reason: string; readonly refunded: Money; readonly total: Money };

/**
 * An order event worth notifying, as this module keeps it: `notice` feeds the email, `data` (the
 * event's payload, untouched) is what webhook endpoints receive. Its id is the id of the message
 * that announced it.
 */
export interface NotificationEvent {
  readonly id: string;
  readonly type: NotifiedEventType;
  readonly orderId: string;
  readonly occurredAt: Date;
  readonly notice: OrderNotice;
  readonly data: Readonly<Record<string, unknown>>;
}
