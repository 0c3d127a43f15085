import { z } from 'zod';
import { batchStores, type Envelope, type MessageConsumer } from '../../../../platform/messaging/index.ts';
import { traced } from '../../../../platform/observability/tracing.ts';
import { ordersEvents } from '../../../orders/contract.ts';
import { ScheduleDeliveries } from '../../application/schedule-deliveries.ts';
import type { NotificationEvent, OrderNotice } from '../../domain/notification-event.ts';
import { BatchDeliveryScheduling } from '../postgres/batch-delivery-scheduling.ts';
import { PgDeliveryRepository } from '../postgres/pg-delivery-repository.ts';
import { PgWebhookEndpointRepository } from '../postgres/pg-webhook-endpoint-repository.ts';
import { orderCancelled, orderConfirmed, orderEventsSubscription } from './notifications-message-schemas.ts';

const orderIdOf = z.object({ orderId: z.string().min(1) });

/**
 * Schedules the deliveries of `orders.confirmed` and `orders.cancelled` in the message's inbox
 * transaction, then wakes the worker that sends them. A payload that does not parse throws, so the
 * message is retried and ends in the dead letters rather than being dropped in silence.
 */
export function orderEventsConsumer(deps: { wakeWorker: () => void; newId?: () => string; now?: () => Date }): MessageConsumer {
  // A batch's events, checked and scheduled in memory, inserted together at the end.
  const batches = batchStores((envelopes, transaction) => BatchDeliveryScheduling.read(transaction, envelopes.flatMap((envelope) => {
    const parsed = orderIdOf.safeParse(envelope.payload);
    return parsed.success ? [{ id: envelope.id, orderId: parsed.data.orderId, type: envelope.type }] : []; // malformed: its own handle says so
  })));
  return {
    name: orderEventsSubscription.consumer,
    types: orderEventsSubscription.reads.map(({ message }) => message.type),
    async handle(envelope, transaction) {
      const batch = batches.of(transaction);
      const scheduleDeliveries = new ScheduleDeliveries({
        deliveries: batch ?? new PgDeliveryRepository(transaction),
        endpoints: batch ?? new PgWebhookEndpointRepository(transaction),
        ...(deps.newId === undefined ? {} : { newId: deps.newId }),
        ...(deps.now === undefined ? {} : { now: deps.now }),
      });
      await traced('notifications.schedule-deliveries', () => scheduleDeliveries.execute(toNotificationEvent(envelope)));
    },
    lockForBatch: batches.lockForBatch,
    finishBatch: batches.finishBatch,
    afterCommit() {
      deps.wakeWorker();
    },
  };
}

/** Envelope of an order event → the notification event this module keeps. */
export function toNotificationEvent(envelope: Envelope): NotificationEvent {
  const common = { id: envelope.id, occurredAt: new Date(envelope.occurredAt) };
  if (envelope.type === ordersEvents.confirmed.type && envelope.version === ordersEvents.confirmed.version) {
    const payload = orderConfirmed.parse(envelope.payload);
    const notice: OrderNotice = {
      kind: 'order-confirmed', orderId: payload.orderId, customerEmail: payload.customer.email, total: payload.total,
      lines: payload.lines.map((line) => ({ sku: line.sku, name: line.name, quantity: line.quantity, lineTotal: line.lineTotal })),
    };
    return { ...common, type: 'orders.confirmed', orderId: payload.orderId, notice, data: payloadOf(envelope) };
  }
  if (envelope.type === ordersEvents.cancelled.type && envelope.version === ordersEvents.cancelled.version) {
    const payload = orderCancelled.parse(envelope.payload);
    const base = { orderId: payload.orderId, customerEmail: payload.customer.email, reason: payload.reason, total: payload.total };
    const notice: OrderNotice = payload.refunded === null
      ? { kind: 'order-cancelled', ...base }
      : { kind: 'order-refunded', ...base, refunded: payload.refunded };
    return { ...common, type: 'orders.cancelled', orderId: payload.orderId, notice, data: payloadOf(envelope) };
  }
  throw new Error(`notifications cannot handle ${envelope.type} v${envelope.version}`);
}

// Webhook endpoints get the payload as the orders module wrote it, fields this module ignores included.
function payloadOf(envelope: Envelope): Readonly<Record<string, unknown>> {
  return envelope.payload as Readonly<Record<string, unknown>>;
}
