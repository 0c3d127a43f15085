import { sql } from 'kysely';
import type { RetentionRule } from '../../../../platform/database/retention-sweeper.ts';

/**
 * Webhook events received more than `seconds` ago. An event's row is what makes a redelivery of it
 * a duplicate (its provider and event id are the key `ApplyWebhookEvent` records first), so it must
 * outlive the provider's redeliveries: Stripe retries an unacknowledged event for up to 3 days, and
 * the configuration keeps events at least 4. A copy arriving after its row is gone is applied again,
 * and changes nothing when the payment has already reached what it reports.
 */
export function oldWebhookEvents(seconds: number): RetentionRule {
  return {
    table: 'payments.webhook_events',
    expired: sql`received_at < now() - make_interval(secs => ${seconds})`,
  };
}
