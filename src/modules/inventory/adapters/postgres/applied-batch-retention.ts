import { sql } from 'kysely';
import type { RetentionRule } from '../../../../platform/database/retention-sweeper.ts';

/**
 * Batches of stock levels set more than `seconds` ago; as the catalog's applied batches
 * (`oldAppliedProductBatches`): only a running job sends a batch again, and they are kept as long
 * as finished jobs are.
 */
export function oldAppliedStockBatches(seconds: number): RetentionRule {
  return { table: 'inventory.applied_batches', expired: sql`applied_at < now() - make_interval(secs => ${seconds})`, scan: { orderBy: 'applied_at' } };
}
