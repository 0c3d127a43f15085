import type { Envelope } from './envelope.ts';
import type { OutgoingMessage } from './transport.ts';

/** An outbox row as the relay reads it. */
export interface OutboxRow {
  position: number;
  id: string;
  topic: string;
  type: string;
  version: number;
  key: string;
  occurred_at: Date;
  traceparent: string | null;
  request_id: string | null;
  payload: unknown;
}

const outboxColumns = 'position, id, topic, type, version, key, occurred_at, traceparent, request_id, payload';

// Only one relay per database publishes at a time (its leader), which keeps the outbox order on the wire.
export const relayLockKey = 727_100_002;

/** Takes the leader lock if no other session holds it ($1: `relayLockKey`); `locked` says whether it did. */
export const tryRelayLock = 'select pg_try_advisory_lock($1) as locked';

/** Gives up the leader lock ($1: `relayLockKey`). */
export const releaseRelayLock = 'select pg_advisory_unlock($1)';

/** The first unsent rows in outbox order ($1: how many), leaving out the positions of passes in flight ($2). */
export const selectUnsent =
  `select ${outboxColumns} from messaging.outbox where sent_at is null and position <> all($2::bigint[]) order by position limit $1`;

/** Marks a pass's rows sent ($1: their positions). */
export const markSent = 'update messaging.outbox set sent_at = now() where position = any($1::bigint[])';

/**
 * Marks a pass's rows sent ($2: their positions) and, in the same statement, reads the next unsent
 * rows ($1: how many), leaving out the positions of passes in flight ($3).
 */
export const markSentAndSelectNext =
  `with marked as (update messaging.outbox set sent_at = now() where position = any($2::bigint[]))
         select ${outboxColumns} from messaging.outbox where sent_at is null and position <> all($3::bigint[]) order by position limit $1`;

/** The message an outbox row carries, addressed to its topic. */
export function toOutgoingMessage(row: OutboxRow): OutgoingMessage {
  const envelope: Envelope = {
    id: row.id,
    type: row.type,
    version: row.version,
    key: row.key,
    occurredAt: row.occurred_at.toISOString(),
    ...(row.traceparent === null ? {} : { traceparent: row.traceparent }),
    ...(row.request_id === null ? {} : { requestId: row.request_id }),
    payload: row.payload,
  };
  return { topic: row.topic, envelope };
}
