import { sql, type RawBuilder } from 'kysely';
import type { RetentionRule } from '../../../../platform/database/retention-sweeper.ts';

/**
 * A job past its retention: finished (succeeded, failed or cancelled; a queued or running job is
 * never deleted, however old) more than `seconds` ago, and named by no invoice. An invoice drawn
 * by a job (before invoices were drawn on download, decision 0014) refers to that job, so the job
 * stays as long as the invoice.
 */
export function finishedJob(alias: string, seconds: number): RawBuilder<unknown> {
  const job = sql.id(alias);
  return sql`${job}.status in ('succeeded', 'failed', 'cancelled')
    and ${job}.finished_at < now() - make_interval(secs => ${seconds})
    and not exists (select 1 from jobs.invoices i where i.job_id = ${job}.id)`;
}

/**
 * The row errors of jobs past their retention (see `finishedJob`). They go before their job, in
 * batches of their own: one import keeps up to 1,000, so deleting them with the job (the foreign
 * key cascades) would make a batch of jobs an unbounded transaction.
 */
export function rowErrorsOfOldJobs(seconds: number): RetentionRule {
  return {
    table: 'jobs.row_errors',
    expired: sql`exists (select 1 from jobs.jobs j where j.id = row_errors.job_id and ${finishedJob('j', seconds)})`,
  };
}

/**
 * Jobs past their retention (see `finishedJob`) whose row errors are gone already
 * (`rowErrorsOfOldJobs`, swept first) and whose stored documents are gone too (`PgExpiredJobs`,
 * removed by the `jobs.document-retention` task before): a row never goes before its documents, so
 * none is left that no job names. An invoice job has no document of its own (decision 0014).
 */
export function oldJobs(seconds: number): RetentionRule {
  return {
    table: 'jobs.jobs',
    expired: sql`${finishedJob('jobs', seconds)}
      and (jobs.documents_removed_at is not null or jobs.kind = 'invoice')
      and not exists (select 1 from jobs.row_errors e where e.job_id = jobs.id)`,
    // The partial index of finished jobs, oldest first.
    scan: { orderBy: 'finished_at' },
  };
}

/** Everything the jobs module prunes, in the order a pass must take it. */
export function jobRetentionRules(seconds: number): RetentionRule[] {
  return [rowErrorsOfOldJobs(seconds), oldJobs(seconds)];
}
