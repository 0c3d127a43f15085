import { z } from 'zod';
import { ordersEvents, type OrderCancelledV1, type OrderConfirmedV1 } from '../../../orders/contract.ts';
import { notificationsEvents, type NotificationDeliveredV1, type NotificationFailedV1 } from '../../contract.ts';

// The messages of notifications with their payload schemas: read by the order events consumer and
// by the AsyncAPI document (src/apps/asyncapi.ts).

const money = z.object({ amount: z.int(), currency: z.string().length(3) });
const customer = z.object({ id: z.string(), email: z.string().min(3) });

// Typed against the orders contract, so a change there that these schemas miss fails to compile.
export const orderConfirmed: z.ZodType<OrderConfirmedV1> = z.object({
  orderId: z.string().min(1),
  customer,
  lines: z.array(z.object({ sku: z.string(), name: z.string(), quantity: z.int(), unitPrice: money, lineTotal: money })),
  total: money,
  confirmedAt: z.string(),
});

export const orderCancelled: z.ZodType<OrderCancelledV1> = z.object({
  orderId: z.string().min(1),
  customer,
  reason: z.string(),
  total: money,
  refunded: money.nullable(),
  cancelledAt: z.string(),
});

// What notifications writes when a delivery ends. No module consumes these, so the schemas are the
// publisher's, typed against its contract.
const deliveryOutcome = {
  deliveryId: z.string().min(1),
  channel: z.enum(['email', 'webhook']),
  eventId: z.string().min(1),
  eventType: z.string().min(1),
  orderId: z.string().min(1),
};

export const notificationDelivered: z.ZodType<NotificationDeliveredV1> = z.object(deliveryOutcome);

export const notificationFailed: z.ZodType<NotificationFailedV1> = z.object(deliveryOutcome);

/** What `notifications.order-events` reads. */
export const orderEventsSubscription = {
  consumer: 'notifications.order-events',
  reads: [
    { message: ordersEvents.confirmed, payload: orderConfirmed },
    { message: ordersEvents.cancelled, payload: orderCancelled },
  ],
} as const;

/** The order events consumer, and the delivery outcomes notifications sends. */
export const notificationsMessageSchemas = {
  consumers: [orderEventsSubscription],
  sends: [
    { message: notificationsEvents.delivered, payload: notificationDelivered },
    { message: notificationsEvents.failed, payload: notificationFailed },
  ],
};
