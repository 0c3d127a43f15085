import { createEnvelope, type Envelope } from '../../../platform/messaging/index.ts';
import type { OrderCancelledV1, OrderConfirmedV1 } from '../../orders/contract.ts';
import type { NotificationEvent } from '../domain/notification-event.ts';

let sequence = 0;

/** A valid `orders.confirmed` payload for a fresh order; override only what a test is about. */
export function anOrderConfirmed(overrides: Partial<OrderConfirmedV1> = {}): OrderConfirmedV1 {
  sequence += 1;
  return {
    orderId: `ord_${process.pid}_${sequence}`,
    customer: { id: `cus_${sequence}`, email: `customer${sequence}@example.com` },
    lines: [
      { sku: 'MUG-01', name: 'Blue mug', quantity: 2, unitPrice: { amount: 1299, currency: 'EUR' }, lineTotal: { amount: 2598, currency: 'EUR' } },
      { sku: 'TEA-7', name: 'Green tea', quantity: 1, unitPrice: { amount: 450, currency: 'EUR' }, lineTotal: { amount: 450, currency: 'EUR' } },
    ],
    total: { amount: 3048, currency: 'EUR' },
    confirmedAt: '2026-01-02T03:04:05.000Z',
    ...overrides,
  };
}

/** A valid `orders.cancelled` payload; `refunded` null (nothing was taken) unless overridden. */
export function anOrderCancelled(overrides: Partial<OrderCancelledV1> = {}): OrderCancelledV1 {
  sequence += 1;
  return {
    orderId: `ord_${process.pid}_${sequence}`,
    customer: { id: `cus_${sequence}`, email: `customer${sequence}@example.com` },
    reason: 'payment declined',
    total: { amount: 1299, currency: 'EUR' },
    refunded: null,
    cancelledAt: '2026-01-02T03:04:05.000Z',
    ...overrides,
  };
}

export function orderConfirmedEnvelope(payload: OrderConfirmedV1 = anOrderConfirmed()): Envelope<OrderConfirmedV1> {
  return createEnvelope({ type: 'orders.confirmed', version: 1, key: payload.orderId, payload });
}

export function orderCancelledEnvelope(payload: OrderCancelledV1 = anOrderCancelled()): Envelope<OrderCancelledV1> {
  return createEnvelope({ type: 'orders.cancelled', version: 1, key: payload.orderId, payload });
}

/** A notification event of a confirmed order, as the consumer would record it. */
export function aConfirmedNotificationEvent(payload: OrderConfirmedV1 = anOrderConfirmed(), id: string = crypto.randomUUID()): NotificationEvent {
  return {
    id, type: 'orders.confirmed', orderId: payload.orderId, occurredAt: new Date(payload.confirmedAt),
    notice: { kind: 'order-confirmed', orderId: payload.orderId, customerEmail: payload.customer.email, lines: payload.lines, total: payload.total },
    data: { ...payload },
  };
}
