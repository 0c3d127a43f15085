import { z } from 'zod';
import type { DeliveryView } from '../../application/ports.ts';
import { notifiedEventTypes } from '../../domain/notification-event.ts';
import { deliveryStatus } from './webhook-dtos.ts';

export const emailDeliveryDto = z.object({
  id: z.string(),
  to: z.string().describe('The customer address the email goes to.'),
  eventId: z.string(),
  eventType: z.enum(notifiedEventTypes),
  orderId: z.string(),
  status: deliveryStatus,
  attempts: z.int(),
  lastError: z.string().nullable(),
  nextAttemptAt: z.iso.datetime().nullable().describe('When a pending delivery is tried next; null once it is finished.'),
  createdAt: z.iso.datetime(),
  sentAt: z.iso.datetime().nullable(),
}).meta({ id: 'EmailDelivery' });

export const emailDeliveryPageDto = z.object({
  items: z.array(emailDeliveryDto),
  nextCursor: z.string().nullable(),
}).meta({ id: 'EmailDeliveryPage' });

export function toEmailDeliveryDto({ delivery, eventType, orderId }: DeliveryView): z.infer<typeof emailDeliveryDto> {
  return {
    id: delivery.id,
    to: delivery.recipient,
    eventId: delivery.eventId,
    eventType,
    orderId,
    status: delivery.status,
    attempts: delivery.attempts,
    lastError: delivery.lastError,
    nextAttemptAt: delivery.status === 'pending' ? delivery.nextAttemptAt.toISOString() : null,
    createdAt: delivery.createdAt.toISOString(),
    sentAt: delivery.sentAt === null ? null : delivery.sentAt.toISOString(),
  };
}
