import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Selectable } from 'kysely';
import { recordAdminAct } from '../../../../platform/audit/index.ts';
import { WriteCoalescer } from '../../../../platform/concurrency/write-coalescer.ts';
import { appendToOutbox, createEnvelope, type Envelope } from '../../../../platform/messaging/index.ts';
import { currentTraceparent } from '../../../../platform/observability/tracing.ts';
import { claimDue, leaseHeld, leasesHeldBy, type TokenWorkTable } from '../../../../platform/work-queue/index.ts';
import type {
  AdminAct, ClaimedDelivery, DeliveryAnnouncement, DeliveryRepository, Page, PageCursor, DeliveryView,
} from '../../application/ports.ts';
import { notificationsEvents } from '../../contract.ts';
import type { Channel, Delivery, DeliveryStatus } from '../../domain/delivery.ts';
import type { NotificationEvent, NotifiedEventType, OrderNotice } from '../../domain/notification-event.ts';
import { atomically, type DeliveriesTable, type NotificationsTables } from './notifications-tables.ts';

type DeliveryRow = Selectable<DeliveriesTable>;

/** A claim takes an attempt under the batch's token; sent, dead and cancelled deliveries stay as the record. */
const deliveries: TokenWorkTable = {
  name: 'notifications.deliveries', alias: 'd', key: ['id'], token: 'lease_token', countsAttemptOnClaim: true, pending: { column: 'status', is: 'pending' },
};

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
  endpoint_previous_secret: string | null;
  endpoint_previous_secret_expires_at: Date | null;
  endpoint_created_at: Date | null;
  traceparent: string | null;
}

/** An attempt's outcome to record. */
interface PendingAttempt {
  leaseToken: string;
  delivery: Delivery;
  /** Made in the caller's context, so the announcement carries the attempt's trace. */
  announcement: Envelope | undefined;
}

/**
 * Notification events and deliveries in PostgreSQL. Given a transaction (a consumer's), it writes in
 * it; given the pool, every multi-statement write is its own transaction.
 *
 * On the pool, the outcomes of attempts (the worker sends a claimed batch at once, so they finish
 * close together) are recorded together: those that arrive while one recording transaction runs go
 * in the next, in two statements whatever their number. When such a transaction fails, each is
 * recorded again alone, so only one that fails alone fails.
 */
export class PgDeliveryRepository implements DeliveryRepository {
  readonly #db: Kysely<NotificationsTables>;
  readonly #givenTransaction: boolean;
  /** One outcome per delivery in a transaction: a second one (a stale lease's) waits for the next. */
  readonly #outcomes = new WriteCoalescer<PendingAttempt, boolean>({
    keyOf: (pending) => pending.delivery.id,
    together: async (batch) => {
      const recorded = await this.#db.transaction().execute((transaction) => recordTogether(transaction, batch));
      return batch.map((pending) => recorded.has(pending.delivery.id));
    },
    alone: (pending) => this.#recordOne(pending),
  });

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
    const result = await claimDue<ClaimedRow>(deliveries, {
      limit: options.limit, now: options.now, leaseUntil: options.leaseUntil, token: leaseToken,
      carry: ['event_id', 'endpoint_id'],
      join: sql`
        join notifications.events as e on e.id = due.event_id
        left join notifications.webhook_endpoints as w on w.id = due.endpoint_id and w.deleted_at is null`,
      returning: sql`d.*, e.type as event_type, e.order_id, e.occurred_at, e.notice, e.data, e.traceparent,
        w.url as endpoint_url, w.events as endpoint_events, w.secret as endpoint_secret, w.created_at as endpoint_created_at,
        w.previous_secret as endpoint_previous_secret, w.previous_secret_expires_at as endpoint_previous_secret_expires_at`,
    }).execute(this.#db);
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
        ...(row.endpoint_previous_secret === null || row.endpoint_previous_secret_expires_at === null
          ? {} : { previousSecret: { secret: row.endpoint_previous_secret, expiresAt: row.endpoint_previous_secret_expires_at } }),
      },
      ...(row.traceparent === null ? {} : { traceparent: row.traceparent }),
    }));
  }

  recordAttempt(leaseToken: string, delivery: Delivery, announcement: DeliveryAnnouncement | null): Promise<boolean> {
    const pending = { leaseToken, delivery, announcement: announcement === null ? undefined : announcementEnvelope(announcement) };
    return this.#givenTransaction ? this.#recordOne(pending) : this.#outcomes.write(pending);
  }

  /** How many recording transactions committed, recording how many outcomes (for tests and diagnosis). */
  recordCounts(): { transactions: number; outcomes: number } {
    const { writes, items } = this.#outcomes.counts();
    return { transactions: writes, outcomes: items };
  }

  async #recordOne({ leaseToken, delivery, announcement }: PendingAttempt): Promise<boolean> {
    const write = async (executor: Kysely<NotificationsTables>): Promise<boolean> => {
      const result = await executor.updateTable('notifications.deliveries as d')
        .set({
          status: delivery.status, attempts: delivery.attempts, next_attempt_at: delivery.nextAttemptAt,
          last_error: delivery.lastError, sent_at: delivery.sentAt, lease_token: null,
        })
        .where(leaseHeld(deliveries, [delivery.id], leaseToken))
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) return false;
      if (announcement !== undefined) await appendToOutbox(executor, [announcement]);
      return true;
    };
    // A retry to schedule is one statement; an outcome to announce commits with its announcement.
    return announcement === undefined ? write(this.#db) : atomically(this.#db, this.#givenTransaction, write);
  }

  async findDelivery(channel: Channel, id: string): Promise<DeliveryView | undefined> {
    const row = await this.#deliveriesOf(channel).where('d.id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toView(row);
  }

  async listDeliveries(channel: Channel, query: { status?: DeliveryStatus; orderId?: string; after?: PageCursor; limit: number }): Promise<Page<DeliveryView>> {
    let select = this.#deliveriesOf(channel);
    if (query.status !== undefined) select = select.where('d.status', '=', query.status);
    // An order's few events are found by their (order_id, type) unique index, their deliveries by (event_id, ...).
    if (query.orderId !== undefined) select = select.where('e.order_id', '=', query.orderId);
    const after = query.after;
    if (after !== undefined) {
      select = select.where((eb) => eb(eb.refTuple('d.created_at', 'd.id'), '>', eb.tuple(after.createdAt, after.id)));
    }
    const rows = await select.orderBy('d.created_at').orderBy('d.id').limit(query.limit + 1).execute();
    const items = rows.slice(0, query.limit).map(toView);
    const last = items.at(-1)?.delivery;
    return { items, next: rows.length > query.limit && last !== undefined ? { createdAt: last.createdAt, id: last.id } : null };
  }

  async revive(delivery: Delivery, previousStatus: DeliveryStatus, act?: AdminAct): Promise<boolean> {
    return atomically(this.#db, this.#givenTransaction, async (executor) => {
      const result = await executor.updateTable('notifications.deliveries')
        .set({ status: delivery.status, attempts: delivery.attempts, next_attempt_at: delivery.nextAttemptAt, lease_token: null })
        .where('id', '=', delivery.id)
        .where('status', '=', previousStatus)
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) return false;
      if (act !== undefined) await recordAdminAct(executor, 'notifications', act);
      return true;
    });
  }

  #deliveriesOf(channel: Channel) {
    return this.#db.selectFrom('notifications.deliveries as d')
      .innerJoin('notifications.events as e', 'e.id', 'd.event_id')
      .selectAll('d')
      .select(['e.type as event_type', 'e.order_id'])
      .where('d.channel', '=', channel);
  }
}

export function toRow(delivery: Delivery): DeliveryRow {
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

function announcementEnvelope(announcement: DeliveryAnnouncement): Envelope {
  const version = announcement.type === notificationsEvents.delivered.type ? notificationsEvents.delivered.version : notificationsEvents.failed.version;
  return createEnvelope({ type: announcement.type, version, key: announcement.payload.orderId, payload: announcement.payload });
}

/**
 * Several attempts' outcomes (of distinct deliveries) in one transaction: each recorded where its
 * lease still holds, and the announcements of those recorded appended. Answers the ids recorded.
 */
async function recordTogether(transaction: Kysely<NotificationsTables>, batch: readonly PendingAttempt[]): Promise<Set<string>> {
  const outcomes = batch.map((pending) => pending.delivery);
  const updated = await sql<{ id: string }>`
    update notifications.deliveries as d
    set status = c.status, attempts = c.attempts, next_attempt_at = c.next_attempt_at, last_error = c.last_error, sent_at = c.sent_at, lease_token = null
    from unnest(
      ${outcomes.map((delivery) => delivery.id)}::text[], ${batch.map((pending) => pending.leaseToken)}::uuid[],
      ${outcomes.map((delivery) => delivery.status)}::text[], ${outcomes.map((delivery) => delivery.attempts)}::int[],
      ${outcomes.map((delivery) => delivery.nextAttemptAt)}::timestamptz[], ${outcomes.map((delivery) => delivery.lastError)}::text[],
      ${outcomes.map((delivery) => delivery.sentAt)}::timestamptz[]
    ) as c (id, lease_token, status, attempts, next_attempt_at, last_error, sent_at)
    where ${leasesHeldBy(deliveries, 'c')}
    returning d.id`.execute(transaction);
  const recorded = new Set(updated.rows.map((row) => row.id));
  await appendToOutbox(transaction, batch.flatMap((pending) => (recorded.has(pending.delivery.id) && pending.announcement !== undefined ? [pending.announcement] : [])));
  return recorded;
}
