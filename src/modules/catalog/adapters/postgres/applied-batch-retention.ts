import { sql } from 'kysely';
import type { RetentionRule } from '../../../../platform/database/retention-sweeper.ts';

/**
 * Batches of products applied more than `seconds` ago. A batch's row answers a batch sent again
 * with the same key (a retried request, an import resuming after a crash), which only its job can
 * do while it runs; kept as long as finished jobs are (JOB_RETENTION_DAYS), far past that.
 */
export function oldAppliedProductBatches(seconds: number): RetentionRule {
  return { table: 'catalog.applied_batches', expired: sql`applied_at < now() - make_interval(secs => ${seconds})`, scan: { orderBy: 'applied_at' } };
}
