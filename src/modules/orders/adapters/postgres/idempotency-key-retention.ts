import { sql } from 'kysely';
import type { RetentionRule } from '../../../../platform/database/retention-sweeper.ts';

/**
 * An Idempotency-Key past its expiry is deleted: it no longer replays anything (a request with it
 * claims it afresh, exactly as if it were gone), so only its row and index entries remain.
 */
export const expiredIdempotencyKeys: RetentionRule = {
  table: 'orders.idempotency_keys',
  expired: sql`expires_at < now()`,
  scan: { orderBy: 'expires_at' },
};
