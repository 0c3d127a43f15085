import { sql, type Kysely, type QueryExecutorProvider, type Transaction } from 'kysely';
import { backoffDelayMs } from '../../kernel/backoff.ts';
import type { Database } from '../database/database.ts';
import type { Envelope } from './envelope.ts';

/** A consumer of integration events: its effect runs in one transaction with its inbox record. */
export interface MessageConsumer {
  /** Unique and stable: the inbox and retries are keyed by it. */
  name: string;
  types: readonly string[];
  handle(envelope: Envelope, transaction: Transaction<object>): Promise<void>;
  /**
   * Runs first in the transaction of a batch of several messages: takes the row locks their
   * effects will take, in the one order every writer of those rows keeps, so batches of different
   * consumers holding many rows at once cannot deadlock. Must not fail on a malformed message
   * (its `handle` reports that); absent when the effects lock one row each.
   */
  lockForBatch?(envelopes: readonly Envelope[], transaction: Transaction<object>): Promise<void>;
  /**
   * Runs last in the transaction of a batch of several messages, after every `handle`: writes what
   * the handles left to be written together (one statement for the batch, not one per message).
   * Its failure fails the batch, whose messages are then handled one by one.
   */
  finishBatch?(envelopes: readonly Envelope[], transaction: Transaction<object>): Promise<void>;
  /** Runs after `handle`'s transaction committed (never for a duplicate), e.g. to wake a worker. */
  afterCommit?(envelope: Envelope): void;
}

/**
 * Runs `effect` and records `(consumer, message id)` in the same transaction. A message seen before
 * (a redelivery, or a concurrent duplicate, which waits on the first one's row) has no second effect.
 */
export async function handleOnce(
  db: Database,
  consumer: string,
  envelope: Envelope,
  effect: (transaction: Transaction<object>) => Promise<void>,
): Promise<'handled' | 'duplicate'> {
  return db.transaction().execute(async (transaction) => {
    const inserted = await sql`
      insert into messaging.inbox (consumer, message_id) values (${consumer}, ${envelope.id})
      on conflict do nothing returning 1 as fresh`.execute(transaction);
    if (inserted.rows.length === 0) return 'duplicate';
    await effect(transaction);
    return 'handled';
  });
}

/**
 * Records a batch of messages for `consumer` in one statement, inside the caller's transaction, and
 * returns the ids that are new (the others were handled before, or are being handled by a
 * concurrent transaction, which this statement then waits for). Ids must be distinct.
 */
export async function recordInInbox(transaction: QueryExecutorProvider, consumer: string, ids: readonly string[]): Promise<Set<string>> {
  const inserted = await sql<{ message_id: string }>`
    insert into messaging.inbox (consumer, message_id)
    select ${consumer}, id from unnest(${ids}::uuid[]) as id
    on conflict do nothing returning message_id`.execute(transaction);
  return new Set(inserted.rows.map((row) => row.message_id));
}

/** How often, and how patiently, a failing delivery is tried again. */
export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
}

/** The shared backoff with jitter: attempt n waits between half and all of base × 2^(n−1). */
export function retryDelayMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  return backoffDelayMs(policy, attempt, random);
}

/**
 * Records that `attempts` deliveries of a message to a consumer have failed: schedules the next
 * attempt, or after the last one moves the message to the dead letters, where it has one row per
 * consumer (a failure after a replay reopens it). A record with fewer attempts than the pending
 * retry already counts is stale (a redelivered first copy, an attempt that outlived its lease) and
 * changes nothing, so the count never goes back and a leased retry is not made due again.
 */
export async function recordFailedDelivery(
  db: Kysely<object>,
  consumer: string,
  envelope: Envelope,
  attempts: number,
  error: unknown,
  policy: RetryPolicy,
): Promise<'retry' | 'dead-letter'> {
  const reason = describeError(error);
  if (attempts >= policy.maxAttempts) {
    await db.transaction().execute(async (transaction) => {
      await sql`
        insert into messaging.dead_letters (consumer, message_id, envelope, attempts, last_error)
        values (${consumer}, ${envelope.id}, ${JSON.stringify(envelope)}::jsonb, ${attempts}, ${reason})
        on conflict (consumer, message_id) do update
          set envelope = excluded.envelope, attempts = excluded.attempts, last_error = excluded.last_error,
              failed_at = now(), replayed_at = null`.execute(transaction);
      await sql`delete from messaging.retries where consumer = ${consumer} and message_id = ${envelope.id}`.execute(transaction);
    });
    return 'dead-letter';
  }
  const delay = retryDelayMs(policy, attempts);
  await sql`
    insert into messaging.retries (consumer, message_id, envelope, attempts, next_attempt_at, last_error)
    values (${consumer}, ${envelope.id}, ${JSON.stringify(envelope)}::jsonb, ${attempts},
            now() + make_interval(secs => ${delay / 1000}), ${reason})
    on conflict (consumer, message_id) do update
      set attempts = excluded.attempts, next_attempt_at = excluded.next_attempt_at, last_error = excluded.last_error
      where messaging.retries.attempts < excluded.attempts`.execute(db);
  return 'retry';
}

/**
 * Forgets the pending retry of a delivery that has now succeeded, or turned out to be done already;
 * left behind, it would come due again every lease for ever.
 */
export async function forgetRetry(db: QueryExecutorProvider, consumer: string, envelope: Envelope): Promise<void> {
  await sql`delete from messaging.retries where consumer = ${consumer} and message_id = ${envelope.id}`.execute(db);
}

function describeError(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.slice(0, 2000);
}
