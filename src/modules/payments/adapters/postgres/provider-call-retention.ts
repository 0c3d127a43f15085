import { sql } from 'kysely';
import type { RetentionRule } from '../../../../platform/database/retention-sweeper.ts';

/**
 * Provider calls older than `seconds` whose operation is done. The calls are a record for people
 * (what was asked of the provider, when, and what it answered); nothing reads them to decide
 * anything: the idempotency key of a call is derived from its order and kind, and the outcome
 * lives on the operation and the payment. A pending operation, or a failed one waiting for an
 * admin, keeps all its calls.
 */
export function oldProviderCalls(seconds: number): RetentionRule {
  return {
    table: 'payments.provider_calls',
    expired: sql`called_at < now() - make_interval(secs => ${seconds})
      and exists (select 1 from payments.operations o where o.id = provider_calls.operation_id and o.status = 'done')`,
    // Ids grow with time, so the oldest calls are at the low end of the primary key.
    scan: { oldestBy: 'id' },
  };
}
