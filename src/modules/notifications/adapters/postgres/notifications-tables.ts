import type { ColumnType, Generated, Kysely } from 'kysely';
import type { OrderNotice } from '../../domain/notification-event.ts';

/** `notifications.events` as stored. */
export interface EventsTable {
  id: string;
  type: string;
  order_id: string;
  occurred_at: Date;
  /** jsonb: written as JSON text, read back parsed. */
  notice: ColumnType<OrderNotice, string, never>;
  data: ColumnType<Record<string, unknown>, string, never>;
  recorded_at: Generated<Date>;
  /** W3C traceparent of the consumer that recorded it; null without tracing. */
  traceparent: ColumnType<string | null, string | null | undefined, string | null>;
}

/** `notifications.webhook_endpoints` as stored. */
export interface WebhookEndpointsTable {
  id: string;
  url: string;
  events: string[];
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
  created_at: Date;
  deleted_at: Date | null;
}

/** `notifications.deliveries` as stored. */
export interface DeliveriesTable {
  id: string;
  event_id: string;
  channel: string;
  recipient: string;
  endpoint_id: string | null;
  status: string;
  attempts: number;
  next_attempt_at: Date;
  lease_token: string | null;
  last_error: string | null;
  created_at: Date;
  sent_at: Date | null;
}

// A type alias, not an interface: kysely needs the index signature an alias has.
// eslint-disable-next-line @typescript-eslint/consistent-type-definitions
export type NotificationsTables = {
  'notifications.events': EventsTable;
  'notifications.webhook_endpoints': WebhookEndpointsTable;
  'notifications.deliveries': DeliveriesTable;
};

/**
 * Runs `work` atomically: in the caller's transaction when the repository was given one (a consumer's
 * inbox transaction), else in a transaction of its own.
 */
export async function atomically<Result>(
  db: Kysely<NotificationsTables>,
  givenTransaction: boolean,
  work: (executor: Kysely<NotificationsTables>) => Promise<Result>,
): Promise<Result> {
  if (givenTransaction) return work(db);
  return db.transaction().execute(work);
}
