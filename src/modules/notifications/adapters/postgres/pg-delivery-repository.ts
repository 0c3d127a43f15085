import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Selectable } from 'kysely';
import { appendToOutbox, createEnvelope } from '../../../../platform/messaging/index.ts';
import { currentTraceparent } from '../../../../platform/observability/tracing.ts';
import type {
  ClaimedDelivery, DeliveryAnnouncement, DeliveryRepository, Page, PageCursor, DeliveryView,
} from '../../application/ports.ts';
import { notificationsEvents } from '../../contract.ts';
import type { Channel, Delivery, DeliveryStatus } from '../../domain/delivery.ts';
import type { NotificationEvent, NotifiedEventType, OrderNotice } from '../../domain/notification-event.ts';
import { atomically, type DeliveriesTable, type NotificationsTables } from './notifications-tables.ts';

type DeliveryRow = Selectable<DeliveriesTable>;

/** What the claim statement returns: the delivery, its event, and its endpoint when it is a live webhook. */
interface ClaimedRow extends DeliveryRow {
  event_type: string;
  order_id: string;
  occurred_at: Date;
  notice: OrderNotice;
  data: Record<string, unknown>;
  endpoint_url: string | null;
  endpoint_events: string[] | null;
  endpoint_secret: string | null;
  endpoint_created_at: Date | null;
  traceparent: string | null;
}

/**
 * Notification events and deliveries in PostgreSQL. Given a transaction (a consumer's), it writes in
 * it; given the pool, every multi-statement write is its own transaction.
 */
export class PgDeliveryRepository implements DeliveryRepository {
  readonly #db: Kysely<NotificationsTables>;
  readonly #givenTransaction: boolean;

  constructor(db: Kysely<object>) {
    this.#db = db.$extendTables<NotificationsTables>();
    this.#givenTransaction = db.isTransaction;
  }

  async recordEvent(event: NotificationEvent): Promise<boolean> {
    const inserted = await this.#db.insertInto('notifications.events')
      .values({
        id: event.id, type: event.type, order_id: event.orderId, occurred_at: event.occurredAt,
        notice: JSON.stringify(event.notice), data: JSON.stringify(event.data),
        // The worker's sends continue the trace of the message handled now.
        traceparent: currentTraceparent() ?? null,
      })
      .onConflict((conflict) => conflict.doNothing())
      .returning('id')
      .executeTakeFirst();
    return inserted !== undefined;
  }

  async addDeliveries(deliveries: readonly Delivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    await this.#db.insertInto('notifications.deliveries')
      .values(deliveries.map(toRow))
      .onConflict((conflict) => conflict.columns(['event_id', 'channel', 'recipient']).doNothing())
      .execute();
  }

  async claimDue(options: { now: Date; leaseUntil: Date; limit: number }): Promise<ClaimedDelivery[]> {
    const leaseToken = randomUUID();
    // One statement: lock due rows other workers have not locked, push them to the lease's end (a
    // crashed sender's delivery comes due again then) and return them with their event and endpoint.
    const result = await sql<ClaimedRow>`
      with due as (
        select id, event_id, endpoint_id from notifications.deliveries
        where status = 'pending' and next_attempt_at <= ${options.now}
        order by next_attempt_at
        limit ${options.limit}
        for update skip locked
      )
      update notifications.deliveries as d
      set attempts = d.attempts + 1, next_attempt_at = ${options.leaseUntil}, lease_token = ${leaseToken}
      from due
      join notifications.events as e on e.id = due.event_id
      left join notifications.webhook_endpoints as w on w.id = due.endpoint_id and w.deleted_at is null
      where d.id = due.id
      returning d.*, e.type as event_type, e.order_id, e.occurred_at, e.notice, e.data, e.traceparent,
        w.url as endpoint_url, w.events as endpoint_events, w.secret as endpoint_secret, w.created_at as endpoint_created_at`
      .execute(this.#db);
    return result.rows.map((row) => ({
      delivery: toDelivery(row),
      leaseToken,
      event: {
        id: row.event_id, type: row.event_type as NotifiedEventType, orderId: row.order_id,
        occurredAt: row.occurred_at, notice: row.notice, data: row.data,
      },
      endpoint: row.endpoint_url === null || row.endpoint_id === null ? null : {
        id: row.endpoint_id, url: row.endpoint_url, events: (row.endpoint_events ?? []) as NotifiedEventType[],
        secret: row.endpoint_secret ?? '', createdAt: row.endpoint_created_at ?? row.created_at,
      },
      ...(row.traceparent === null ? {} : { traceparent: row.traceparent }),
    }));
  }

  async recordAttempt(leaseToken: string, delivery: Delivery, announcement: DeliveryAnnouncement | null): Promise<boolean> {
    const write = async (executor: Kysely<NotificationsTables>): Promise<boolean> => {
      const result = await executor.updateTable('notifications.deliveries')
        .set({
          status: delivery.status, attempts: delivery.attempts, next_attempt_at: delivery.nextAttemptAt,
          last_error: delivery.lastError, sent_at: delivery.sentAt, lease_token: null,
        })
        .where('id', '=', delivery.id)
        .where('lease_token', '=', leaseToken)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) return false;
      if (announcement !== null) {
        const version = announcement.type === notificationsEvents.delivered.type ? notificationsEvents.delivered.version : notificationsEvents.failed.version;
        await appendToOutbox(executor, [createEnvelope({ type: announcement.type, version, key: announcement.payload.orderId, payload: announcement.payload })]);
      }
      return true;
    };
    // A retry to schedule is one statement; an outcome to announce commits with its announcement.
    return announcement === null ? write(this.#db) : atomically(this.#db, this.#givenTransaction, write);
  }

  async findDelivery(channel: Channel, id: string): Promise<DeliveryView | undefined> {
    const row = await this.#deliveriesOf(channel).where('d.id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toView(row);
  }

  async listDeliveries(channel: Channel, query: { status?: DeliveryStatus; after?: PageCursor; limit: number }): Promise<Page<DeliveryView>> {
    let select = this.#deliveriesOf(channel);
    if (query.status !== undefined) select = select.where('d.status', '=', query.status);
    const after = query.after;
    if (after !== undefined) {
      select = select.where((eb) => eb(eb.refTuple('d.created_at', 'd.id'), '>', eb.tuple(after.createdAt, after.id)));
    }
    const rows = await select.orderBy('d.created_at').orderBy('d.id').limit(query.limit + 1).execute();
    const items = rows.slice(0, query.limit).map(toView);
    const last = items.at(-1)?.delivery;
    return { items, next: rows.length > query.limit && last !== undefined ? { createdAt: last.createdAt, id: last.id } : null };
  }

  async revive(delivery: Delivery, previousStatus: DeliveryStatus): Promise<boolean> {
    const result = await this.#db.updateTable('notifications.deliveries')
      .set({ status: delivery.status, attempts: delivery.attempts, next_attempt_at: delivery.nextAttemptAt, lease_token: null })
      .where('id', '=', delivery.id)
      .where('status', '=', previousStatus)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  #deliveriesOf(channel: Channel) {
    return this.#db.selectFrom('notifications.deliveries as d')
      .innerJoin('notifications.events as e', 'e.id', 'd.event_id')
      .selectAll('d')
      .select(['e.type as event_type', 'e.order_id'])
      .where('d.channel', '=', channel);
  }
}

function toRow(delivery: Delivery): DeliveryRow {
  return {
    id: delivery.id, event_id: delivery.eventId, channel: delivery.channel, recipient: delivery.recipient,
    endpoint_id: delivery.channel === 'webhook' ? delivery.recipient : null,
    status: delivery.status, attempts: delivery.attempts, next_attempt_at: delivery.nextAttemptAt, lease_token: null,
    last_error: delivery.lastError, created_at: delivery.createdAt, sent_at: delivery.sentAt,
  };
}

function toDelivery(row: DeliveryRow): Delivery {
  return {
    id: row.id, eventId: row.event_id, channel: row.channel as Channel, recipient: row.recipient,
    status: row.status as DeliveryStatus, attempts: row.attempts, nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error, createdAt: row.created_at, sentAt: row.sent_at,
  };
}

function toView(row: DeliveryRow & { event_type: string; order_id: string }): DeliveryView {
  return { delivery: toDelivery(row), eventType: row.event_type as NotifiedEventType, orderId: row.order_id };
}
