/**
 * What the notifications module promises other modules: the events it emits once a customer email
 * or a signed webhook is delivered, or finally given up. Keyed by order id, like every message of an order.
 */

/** How a notification travels. */
export type NotificationChannelV1 = 'email' | 'webhook';

/** Event `notifications.delivered`: one email or webhook delivery was accepted by its recipient. */
export interface NotificationDeliveredV1 {
  deliveryId: string;
  channel: NotificationChannelV1;
  /** Id of the event the notification is about (the envelope id of the order event). */
  eventId: string;
  /** Type of that event, e.g. `orders.confirmed`. */
  eventType: string;
  orderId: string;
}

/** Event `notifications.failed`: every attempt of one delivery failed; it is dead until an admin retries it. */
export interface NotificationFailedV1 {
  deliveryId: string;
  channel: NotificationChannelV1;
  eventId: string;
  eventType: string;
  orderId: string;
}

export const notificationsEvents = {
  delivered: { type: 'notifications.delivered', version: 1 },
  failed: { type: 'notifications.failed', version: 1 },
} as const;

/** The order events a webhook endpoint may subscribe to; their payloads are sent as the webhook's `data`. */
export const webhookEventTypes = ['orders.confirmed', 'orders.cancelled'] as const;

export type WebhookEventTypeV1 = (typeof webhookEventTypes)[number];
