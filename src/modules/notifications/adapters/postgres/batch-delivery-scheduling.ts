import { sql, type Kysely, type Transaction } from 'kysely';
import { currentTraceparent } from '../../../../platform/observability/tracing.ts';
import type { DeliveryRepository, WebhookEndpointRepository } from '../../application/ports.ts';
import type { Delivery } from '../../domain/delivery.ts';
import type { NotificationEvent, NotifiedEventType } from '../../domain/notification-event.ts';
import type { WebhookEndpoint } from '../../domain/webhook-endpoint.ts';
import type { NotificationsTables } from './notifications-tables.ts';
import { toRow } from './pg-delivery-repository.ts';
import { toEndpoint } from './pg-webhook-endpoint-repository.ts';

/**
 * The scheduling of one batch of order events, in memory for its transaction: `read` learns, in two
 * statements, which events of the batch's orders are recorded already and which live endpoints are
 * subscribed to the batch's event types; the events are then scheduled against that here, in order;
 * `write` inserts the new events and their deliveries in two statements before the transaction
 * commits. An event another transaction recorded meanwhile makes `write` throw: the batch then fails
 * and its events are scheduled one by one.
 */
export class BatchDeliveryScheduling implements Pick<DeliveryRepository, 'recordEvent' | 'addDeliveries'>, Pick<WebhookEndpointRepository, 'listSubscribedTo'> {
  readonly #db: Kysely<NotificationsTables>;
  readonly #orders: ReadonlySet<string>;
  /** Ids and `order id:type` of the events recorded, this batch's included. */
  readonly #recorded: Set<string>;
  readonly #endpoints: readonly WebhookEndpoint[];
  readonly #types: ReadonlySet<string>;
  readonly #newEvents: { event: NotificationEvent; traceparent: string | null }[] = [];
  readonly #newDeliveries: Delivery[] = [];

  private constructor(db: Kysely<NotificationsTables>, orders: ReadonlySet<string>, types: ReadonlySet<string>, recorded: Set<string>, endpoints: readonly WebhookEndpoint[]) {
    this.#db = db;
    this.#orders = orders;
    this.#types = types;
    this.#recorded = recorded;
    this.#endpoints = endpoints;
  }

  /** `events`: the batch's events by id (the message's), order and type. */
  static async read(transaction: Transaction<object>, events: readonly { id: string; orderId: string; type: string }[]): Promise<BatchDeliveryScheduling> {
    const db = transaction.$extendTables<NotificationsTables>();
    const orders = [...new Set(events.map((event) => event.orderId))];
    const types = [...new Set(events.map((event) => event.type))];
    const recorded = orders.length === 0 ? [] : await db.selectFrom('notifications.events').select(['id', 'order_id', 'type'])
      .where((eb) => eb.or([eb('order_id', 'in', orders), eb('id', 'in', events.map((event) => event.id))])).execute();
    const endpoints = types.length === 0 ? [] : await db.selectFrom('notifications.webhook_endpoints').selectAll()
      .where('deleted_at', 'is', null).where(sql<boolean>`events && ${types}::text[]`)
      .orderBy('created_at').orderBy('id').execute();
    return new BatchDeliveryScheduling(db, new Set(orders), new Set(types), new Set(recorded.flatMap((row) => [row.id, `${row.order_id}:${row.type}`])), endpoints.map(toEndpoint));
  }

  recordEvent(event: NotificationEvent): Promise<boolean> {
    if (!this.#orders.has(event.orderId)) return Promise.reject(new Error(`the events of order ${event.orderId} were not read for this batch`));
    if (this.#recorded.has(event.id) || this.#recorded.has(`${event.orderId}:${event.type}`)) return Promise.resolve(false);
    this.#recorded.add(event.id);
    this.#recorded.add(`${event.orderId}:${event.type}`);
    // The worker's sends continue the trace of the message handled now.
    this.#newEvents.push({ event, traceparent: currentTraceparent() ?? null });
    return Promise.resolve(true);
  }

  listSubscribedTo(type: NotifiedEventType): Promise<WebhookEndpoint[]> {
    if (!this.#types.has(type)) return Promise.reject(new Error(`the endpoints subscribed to ${type} were not read for this batch`));
    return Promise.resolve(this.#endpoints.filter((endpoint) => endpoint.events.includes(type)));
  }

  addDeliveries(deliveries: readonly Delivery[]): Promise<void> {
    this.#newDeliveries.push(...deliveries);
    return Promise.resolve();
  }

  async write(): Promise<void> {
    const events = this.#newEvents.splice(0);
    if (events.length > 0) {
      const inserted = await this.#db.insertInto('notifications.events')
        .values(events.map(({ event, traceparent }) => ({
          id: event.id, type: event.type, order_id: event.orderId, occurred_at: event.occurredAt,
          notice: JSON.stringify(event.notice), data: JSON.stringify(event.data), traceparent,
        })))
        .onConflict((conflict) => conflict.doNothing()).returning('id').execute();
      if (inserted.length !== events.length) throw new Error('an event of the batch was recorded by another transaction meanwhile');
    }
    const deliveries = this.#newDeliveries.splice(0);
    if (deliveries.length > 0) {
      await this.#db.insertInto('notifications.deliveries').values(deliveries.map(toRow))
        .onConflict((conflict) => conflict.columns(['event_id', 'channel', 'recipient']).doNothing()).execute();
    }
  }
}
