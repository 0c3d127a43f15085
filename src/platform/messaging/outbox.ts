import { AsyncLocalStorage } from 'node:async_hooks';
import { sql, type QueryExecutorProvider, type RawBuilder } from 'kysely';
import { notifyInProcessAfterCommit } from '../database/database.ts';
import { topicOf, type Envelope } from './envelope.ts';

/** Channel the relay listens on; a commit that added outbox rows wakes it at once. */
export const outboxChannel = 'orderstream_outbox';

/**
 * How a commit that added outbox rows wakes the relay: `postgres` sends NOTIFY (heard by the relay
 * of every process on the database), `in-process` signals the relay of this process after the
 * commit, without a statement, for a process whose relay is the only one on its database.
 */
export type OutboxNotify = 'postgres' | 'in-process';

/**
 * Appends messages to the outbox inside the caller's transaction, so they exist if and only if
 * the change that caused them commits.
 */
export async function appendToOutbox(transaction: QueryExecutorProvider, envelopes: readonly Envelope[]): Promise<void> {
  if (envelopes.length === 0) return;
  const batch = outboxBatches.getStore();
  if (batch !== undefined) {
    batch.push(...envelopes);
    return;
  }
  const insert = sql`insert into messaging.outbox ${outboxColumns} values ${sql.join(outboxRows(envelopes))}`;
  // Both are transactional: signalled on commit, dropped on rollback. The in-process signal is taken
  // only when this process's relay listens in-process on the pool the transaction runs on; NOTIFY
  // rides on the insert (a data-modifying CTE always runs), one round trip for both.
  if (notifyInProcessAfterCommit(outboxChannel)) {
    await insert.execute(transaction);
    return;
  }
  await sql`with appended as (${insert}) select pg_notify(${outboxChannel}, '')`.execute(transaction);
}

/**
 * For a change written with its messages by one statement on its own, which commits by itself (run
 * inside `db.connection().execute`, whose scope wakes this process's relay once it resolved): the
 * CTEs that append `envelopes` to the outbox only when the statement's CTE named `gate` returned a
 * row, to follow the statement's own. Without an in-process relay on the pool a NOTIFY goes along;
 * a CTE that only selects runs when named, so the statement's final select must name `wake`.
 */
export function gatedOutboxAppend(envelopes: readonly Envelope[], gate: string): { ctes: RawBuilder<unknown>[]; wake: RawBuilder<unknown> } {
  if (envelopes.length === 0) return { ctes: [], wake: sql`0` };
  const gated = sql.table(gate);
  const appended = sql`outbox_appended as (
    insert into messaging.outbox ${outboxColumns}
    select message.* from (values ${sql.join(outboxRows(envelopes))}) as message ${outboxColumns}
    where exists (select from ${gated}))`;
  if (notifyInProcessAfterCommit(outboxChannel)) return { ctes: [appended], wake: sql`0` };
  return {
    ctes: [appended, sql`outbox_notified as (select pg_notify(${outboxChannel}, '') from ${gated})`],
    wake: sql`(select count(*) from outbox_notified)`,
  };
}

const outboxColumns = sql`(id, topic, type, version, key, occurred_at, traceparent, request_id, payload)`;

/**
 * The outbox rows of `envelopes`, in `outboxColumns` order. Typed by hand: values in a subquery
 * (`gatedOutboxAppend`) are not typed by the columns they go to.
 */
function outboxRows(envelopes: readonly Envelope[]): RawBuilder<unknown>[] {
  return envelopes.map((envelope) => sql`(
    ${envelope.id}::uuid, ${topicOf(envelope)}::text, ${envelope.type}::text, ${envelope.version}::integer, ${envelope.key}::text,
    ${envelope.occurredAt}::timestamptz, ${envelope.traceparent ?? null}::text, ${envelope.requestId ?? null}::text, ${JSON.stringify(envelope.payload)}::jsonb
  )`);
}

const outboxBatches = new AsyncLocalStorage<Envelope[]>();

/**
 * Runs `work` (the effects of a batch of messages, in `transaction`) with every `appendToOutbox`
 * inside it collected, then writes them all to the outbox in one multi-row insert, in the order
 * they were appended, before `transaction` commits. Only for work that writes through
 * `transaction` alone: an append inside it joins the batch's transaction, whatever handle it names.
 */
export async function withBatchedOutbox<T>(transaction: QueryExecutorProvider, work: () => Promise<T>): Promise<T> {
  const appended: Envelope[] = [];
  const result = await outboxBatches.run(appended, work);
  await outboxBatches.exit(() => appendToOutbox(transaction, appended));
  return result;
}
