import { sql, type QueryExecutorProvider } from 'kysely';
import { topicOf, type Envelope } from './envelope.ts';

/** Channel the relay listens on; a commit that added outbox rows wakes it at once. */
export const outboxChannel = 'orderstream_outbox';

/**
 * Appends messages to the outbox inside the caller's transaction, so they exist if and only if
 * the change that caused them commits.
 */
export async function appendToOutbox(transaction: QueryExecutorProvider, envelopes: readonly Envelope[]): Promise<void> {
  if (envelopes.length === 0) return;
  const rows = envelopes.map((envelope) => sql`(
    ${envelope.id}, ${topicOf(envelope)}, ${envelope.type}, ${envelope.version}, ${envelope.key},
    ${envelope.occurredAt}, ${envelope.traceparent ?? null}, ${envelope.requestId ?? null}, ${JSON.stringify(envelope.payload)}::jsonb
  )`);
  await sql`
    insert into messaging.outbox (id, topic, type, version, key, occurred_at, traceparent, request_id, payload)
    values ${sql.join(rows)}`.execute(transaction);
  // NOTIFY is transactional: delivered on commit, dropped on rollback.
  await sql`select pg_notify(${outboxChannel}, '')`.execute(transaction);
}
