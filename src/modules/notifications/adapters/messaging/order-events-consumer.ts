import { z } from 'zod';
import { batchStores, type Envelope, type MessageConsumer } from '../../../../platform/messaging/index.ts';
import { traced } from '../../../../platform/observability/tracing.ts';
import { ordersEvents, type OrderCancelledV1, type OrderConfirmedV1 } from '../../../orders/contract.ts';
import { ScheduleDeliveries } from '../../application/schedule-deliveries.ts';
import type { NotificationEvent, OrderNotice } from '../../domain/notification-event.ts';
import { BatchDeliveryScheduling } from '../postgres/batch-delivery-scheduling.ts';
import { PgDeliveryRepository } from '../postgres/pg-delivery-repository.ts';
import { PgWebhookEndpointRepository } from '../postgres/pg-webhook-endpoint-repository.ts';

const money = z.object({ amount: z.int(), currency: z.string().length(3) });
const orderIdOf = z.object({ orderId: z.string().min(1) });
const customer = z.object({ id: z.string(), email: z.string().min(3) });

// Typed against the orders contract, so a change there that these schemas miss fails to compile.
const orderConfirmed: z.ZodType<OrderConfirmedV1> = z.object({
  orderId: z.string().min(1),
  customer,
  lines: z.array(z.object({ sku: z.string(), name: z.string(), quantity: z.int(), unitPrice: money, lineTotal: money })),
  total: money,
  confirmedAt: z.string(),
});

const orderCancelled: z.ZodType<OrderCancelledV1> = z.object({
  orderId: z.string().min(1),
  customer,
  reason: z.string(),
  total: money,
  refunded: money.nullable(),
  cancelledAt: z.string(),
});

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
    name: 'notifications.order-events',
    types: [ordersEvents.confirmed.type, ordersEvents.cancelled.type],
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
