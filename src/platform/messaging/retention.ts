import { sql } from 'kysely';
import type { Database } from '../database/database.ts';
import type { Logger } from '../logging/logger.ts';
import { RetentionSweeper, type BatchLimits, type RetentionMetrics, type RetentionRule } from '../database/retention-sweeper.ts';

/** How long the messaging tables keep what they no longer need for delivery. */
export interface MessagingRetention {
  /** A published outbox row is deleted this long after it was sent. */
  outboxSeconds: number;
  /** An inbox row (and a replayed dead letter) is deleted this long after it was written; never less than `outboxSeconds`. */
  inboxSeconds: number;
  intervalMs: number;
  limits: BatchLimits;
  metrics?: RetentionMetrics;
}

/**
 * The rows of `messaging.*` past their retention. Only sent outbox rows go: an unsent one is still
 * owed to its consumers, however old.
 *
 * An inbox row is what makes a second delivery of a message harmless, so it must outlive every
 * way the same message id can arrive again:
 * - the relay re-publishes a batch it published but did not mark sent (a crash in between) as soon
 *   as a relay of that database leads again: seconds, or the length of an outage;
 * - Kafka re-delivers what a consumer group read but did not commit (seconds to minutes), and a
 *   group with no committed offset (they expire after `offsets.retention.minutes` without a
 *   member) reads its topics again from the earliest retained message, up to the topics' retention
 *   (7 days by default) back;
 * - an operator may re-publish outbox rows by clearing `sent_at`, which is why the inbox retention
 *   is never shorter than the outbox's;
 * - a retry re-delivers the stored envelope when it comes due, and replaying a dead letter queues
 *   such a retry, possibly weeks later. Its consumer never committed that delivery, but may have
 *   handled the same message through another copy (a re-publication) in the meantime. So an inbox
 *   row is kept, whatever its age, while its consumer and message have a pending retry or an open
 *   dead letter: the replay then finds it and is skipped as a duplicate.
 */
export function messagingRetentionRules(retention: Pick<MessagingRetention, 'outboxSeconds' | 'inboxSeconds'>): RetentionRule[] {
  return [
    {
      table: 'messaging.outbox',
      expired: sql`sent_at < now() - make_interval(secs => ${retention.outboxSeconds})`,
      // Sent in position order, so the oldest positions are the first to expire.
      scan: { oldestBy: 'position' },
    },
    {
      table: 'messaging.inbox',
      expired: sql`processed_at < now() - make_interval(secs => ${retention.inboxSeconds})
        and not exists (select 1 from messaging.retries r where r.consumer = inbox.consumer and r.message_id = inbox.message_id)
        and not exists (select 1 from messaging.dead_letters d
                        where d.consumer = inbox.consumer and d.message_id = inbox.message_id and d.replayed_at is null)`,
    },
    {
      table: 'messaging.dead_letters',
      // Few rows, and open ones (never deleted) may sit at any id: a plain scan.
      expired: sql`replayed_at < now() - make_interval(secs => ${retention.inboxSeconds})`,
    },
  ];
}

/** The sweeper of one database's messaging tables. */
export function messagingRetentionSweeper(db: Database, logger: Logger, retention: MessagingRetention): RetentionSweeper {
  if (retention.inboxSeconds < retention.outboxSeconds) throw new Error('The inbox must be kept at least as long as the outbox (see messagingRetentionRules).');
  return new RetentionSweeper({
    name: 'messaging.retention', db, logger, rules: messagingRetentionRules(retention),
    intervalMs: retention.intervalMs, limits: retention.limits, metrics: retention.metrics,
  });
}
