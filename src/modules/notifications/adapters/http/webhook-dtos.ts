import { z } from 'zod';
import type { DeliveryView } from '../../application/ports.ts';
import { notifiedEventTypes } from '../../domain/notification-event.ts';
import { maxSecretRollOverlapSeconds, maxWebhookUrlLength, type WebhookEndpoint } from '../../domain/webhook-endpoint.ts';

const eventType = z.enum(notifiedEventTypes);

export const createWebhookEndpointRequest = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'must be an absolute http or https URL' }).max(maxWebhookUrlLength)
    .describe('Where events are POSTed; http or https.'),
  events: z.array(eventType).min(1).max(10).describe('Event types to receive.'),
}).meta({ id: 'CreateWebhookEndpointRequest', examples: [{ url: 'https://shop.example.com/hooks/orderstream', events: ['orders.confirmed', 'orders.cancelled'] }] });

const webhookEndpointFields = {
  id: z.string(),
  url: z.string(),
  events: z.array(eventType),
  createdAt: z.iso.datetime(),
};

export const webhookEndpointDto = z.object(webhookEndpointFields).meta({ id: 'WebhookEndpoint' });

export const createdWebhookEndpointDto = z.object({
  ...webhookEndpointFields,
  secret: z.string().describe('Signing secret; shown only in this answer. Keep it to verify OrderStream-Signature.'),
}).meta({ id: 'CreatedWebhookEndpoint' });

export const rollWebhookSecretRequest = z.strictObject({
  overlapSeconds: z.int().min(0).max(maxSecretRollOverlapSeconds).optional()
    .describe('How long the previous secret keeps signing beside the new one; 86400 (a day) by default, 0 to drop it at once.'),
}).nullish().meta({ id: 'RollWebhookSecretRequest', examples: [{ overlapSeconds: 3600 }] });

export const rolledWebhookSecretDto = z.object({
  id: z.string(),
  secret: z.string().describe('The new signing secret; shown only in this answer.'),
  previousSecretExpiresAt: z.iso.datetime().nullable().describe('Until when the previous secret still signs deliveries (a second v1= entry); null when it was dropped at once.'),
}).meta({ id: 'RolledWebhookSecret' });

export const webhookEndpointPageDto = z.object({
  items: z.array(webhookEndpointDto),
  nextCursor: z.string().nullable(),
}).meta({ id: 'WebhookEndpointPage' });

export const deliveryStatus = z.enum(['pending', 'sent', 'dead', 'cancelled']);

/** What a delivery shows on either channel, after its id and recipient. */
export const deliveryFields = {
  eventId: z.string(),
  eventType: eventType,
  orderId: z.string(),
  status: deliveryStatus,
  attempts: z.int(),
  lastError: z.string().nullable(),
  nextAttemptAt: z.iso.datetime().nullable().describe('When a pending delivery is tried next; null once it is finished.'),
  createdAt: z.iso.datetime(),
  sentAt: z.iso.datetime().nullable(),
};

/** The `deliveryFields` of a stored delivery. */
export function deliveryFieldsOf({ delivery, eventType: type, orderId }: DeliveryView): z.infer<z.ZodObject<typeof deliveryFields>> {
  return {
    eventId: delivery.eventId,
    eventType: type,
    orderId,
    status: delivery.status,
    attempts: delivery.attempts,
    lastError: delivery.lastError,
    nextAttemptAt: delivery.status === 'pending' ? delivery.nextAttemptAt.toISOString() : null,
    createdAt: delivery.createdAt.toISOString(),
    sentAt: delivery.sentAt === null ? null : delivery.sentAt.toISOString(),
  };
}

export const webhookDeliveryDto = z.object({
  id: z.string(),
  endpointId: z.string(),
  ...deliveryFields,
}).meta({ id: 'WebhookDelivery' });

export const webhookDeliveryPageDto = z.object({
  items: z.array(webhookDeliveryDto),
  nextCursor: z.string().nullable(),
}).meta({ id: 'WebhookDeliveryPage' });

const pageQuery = {
  cursor: z.string().min(1).max(500).optional().describe('The nextCursor of the previous page.'),
  limit: z.coerce.number().int().min(1).max(100).default(20),
};

export const listWebhookEndpointsQuery = z.strictObject(pageQuery);

export const listDeliveriesQuery = z.strictObject({
  status: deliveryStatus.optional().describe('Only deliveries with this status, e.g. dead.'),
  orderId: z.string().min(1).max(100).optional().describe('Only deliveries of this order\'s events, e.g. for an order\'s detail.'),
  ...pageQuery,
});

export const idParams = z.object({ id: z.string().min(1).max(100) });

/** Domain → DTO; the secret is left out: it is shown once, at registration. */
export function toWebhookEndpointDto(endpoint: WebhookEndpoint): z.infer<typeof webhookEndpointDto> {
  return { id: endpoint.id, url: endpoint.url, events: [...endpoint.events], createdAt: endpoint.createdAt.toISOString() };
}

export function toWebhookDeliveryDto(view: DeliveryView): z.infer<typeof webhookDeliveryDto> {
  return { id: view.delivery.id, endpointId: view.delivery.recipient, ...deliveryFieldsOf(view) };
}
