import { sql } from 'kysely';
import { recordAdminAct } from '../audit/audit-trail.ts';
import type { Database } from '../database/database.ts';
import type { Envelope } from './envelope.ts';

/** A message that failed every delivery attempt to one consumer. */
export interface DeadLetter {
  id: number;
  consumer: string;
  messageId: string;
  envelope: Envelope;
  attempts: number;
  lastError: string;
  failedAt: Date;
}

interface DeadLetterRow {
  id: number;
  consumer: string;
  message_id: string;
  envelope: Envelope;
  attempts: number;
  last_error: string;
  failed_at: Date;
}

/**
 * Dead letters not yet replayed, oldest first, `limit` at a time after the id `after`; with
 * `module`, only those of its consumers (named `<module>.<what>`).
 */
export async function listDeadLetters(db: Database, page: { limit: number; after?: number; module?: string }): Promise<DeadLetter[]> {
  const prefix = page.module === undefined ? '' : `${page.module}.`;
  const result = await sql<DeadLetterRow>`
    select id, consumer, message_id, envelope, attempts, last_error, failed_at
    from messaging.dead_letters
    where replayed_at is null and id > ${page.after ?? 0} and starts_with(consumer, ${prefix})
    order by id limit ${page.limit}`.execute(db);
  return result.rows.map((row) => ({
    id: row.id, consumer: row.consumer, messageId: row.message_id, envelope: row.envelope,
    attempts: row.attempts, lastError: row.last_error, failedAt: row.failed_at,
  }));
}

/**
 * Sends a dead letter back to its consumer with a fresh set of attempts, due now. Returns false
 * when there is no such dead letter, or it was already replayed. An admin's replay (`audited`) is
 * recorded in the audit trail (`messaging.dead-letter-replayed`) in the same transaction.
 */
export async function replayDeadLetter(db: Database, id: number, options: { module?: string; audited?: boolean } = {}): Promise<boolean> {
  const prefix = options.module === undefined ? '' : `${options.module}.`;
  return db.transaction().execute(async (transaction) => {
    const found = await sql<DeadLetterRow>`
      update messaging.dead_letters set replayed_at = now()
      where id = ${id} and replayed_at is null and starts_with(consumer, ${prefix})
      returning consumer, message_id, envelope, attempts, last_error`.execute(transaction);
    const row = found.rows[0];
    if (row === undefined) return false;
    if (options.audited === true) {
      await recordAdminAct(transaction, options.module ?? row.consumer.split('.')[0] ?? row.consumer, {
        action: 'messaging.dead-letter-replayed', targetId: String(id),
        before: { consumer: row.consumer, messageId: row.message_id, type: row.envelope.type, attempts: row.attempts, lastError: row.last_error },
        after: { replayed: true },
      });
    }
    await sql`
      insert into messaging.retries (consumer, message_id, envelope, attempts, next_attempt_at, last_error)
      values (${row.consumer}, ${row.message_id}, ${JSON.stringify(row.envelope)}::jsonb, 0, now(), 'replayed')
      on conflict (consumer, message_id) do update set attempts = 0, next_attempt_at = now()`.execute(transaction);
    return true;
  });
}

/**
 * Dead letters not yet replayed in `db`, per module whose consumer they failed (the consumer's name
 * up to its first dot); modules with none are absent. Reads only the index of open ones.
 */
export async function countOpenDeadLetters(db: Database): Promise<{ module: string; waiting: number }[]> {
  const result = await sql<{ module: string; waiting: number }>`
    select split_part(consumer, '.', 1) as module, count(*)::int as waiting
    from messaging.dead_letters where replayed_at is null group by 1 order by 1`.execute(db);
  return result.rows;
}
