import { sql } from 'kysely';
import type { Database } from '../database/database.ts';
import { topicOf } from './envelope.ts';

/** How far behind messaging is: unpublished outbox rows and open dead letters. */
export interface MessagingBacklog {
  /** Unsent outbox rows, counted up to `unsentCountLimit`. */
  unsent: number;
  /** Age of the oldest unsent row in seconds; 0 when none waits. */
  oldestUnsentAgeSeconds: number;
  /** Dead letters not yet replayed, per topic and consumer. */
  deadLetters: { topic: string; consumer: string; count: number }[];
}

/** A backlog this large is an incident whatever its exact size; counting further would make the reading itself slow. */
export const unsentCountLimit = 100_000;

/**
 * Reads the messaging backlog in one short transaction whose statements may each run at most
 * `timeoutMs`, so a scrape never queues slow queries behind one another. The outbox reads use its
 * partial index of unsent rows, the dead-letter read the index of open ones.
 */
export async function readMessagingBacklog(db: Database, options: { timeoutMs: number }): Promise<MessagingBacklog> {
  return db.transaction().execute(async (transaction) => {
    await sql`select set_config('statement_timeout', ${String(Math.max(1, Math.round(options.timeoutMs)))}, true)`.execute(transaction);
    const outbox = await sql<{ unsent: number; oldest_age_seconds: number | null }>`
      select
        (select count(*) from (select 1 from messaging.outbox where sent_at is null limit ${unsentCountLimit}) unsent) as unsent,
        (select extract(epoch from now() - occurred_at)::float8 from messaging.outbox where sent_at is null order by position limit 1) as oldest_age_seconds`
      .execute(transaction);
    const dead = await sql<{ type: string; version: number; consumer: string; count: number }>`
      select envelope->>'type' as type, (envelope->>'version')::int as version, consumer, count(*) as count
      from messaging.dead_letters where replayed_at is null group by 1, 2, 3`.execute(transaction);
    const byTopic = new Map<string, { topic: string; consumer: string; count: number }>();
    for (const row of dead.rows) {
      const topic = topicOf({ type: row.type, version: row.version });
      const key = `${topic}\u0000${row.consumer}`;
      const entry = byTopic.get(key) ?? { topic, consumer: row.consumer, count: 0 };
      entry.count += row.count;
      byTopic.set(key, entry);
    }
    const row = outbox.rows[0];
    return {
      unsent: row?.unsent ?? 0,
      oldestUnsentAgeSeconds: Math.max(0, row?.oldest_age_seconds ?? 0),
      deadLetters: [...byTopic.values()],
    };
  });
}
