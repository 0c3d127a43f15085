import type { Kysely } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import type { WebhookEventStore } from '../../application/ports.ts';
import type { PaymentsTables } from './payments-tables.ts';

/** Verified provider webhook events in `payments.webhook_events`, one row per provider event id. */
export class PgWebhookEventStore implements WebhookEventStore {
  readonly #db: Kysely<PaymentsTables>;

  constructor(db: Database) {
    this.#db = db.$extendTables<PaymentsTables>();
  }

  async record(event: { provider: string; eventId: string; type: string; payload: unknown }): Promise<boolean> {
    const inserted = await this.#db.insertInto('payments.webhook_events')
      .values({ provider: event.provider, event_id: event.eventId, type: event.type, payload: JSON.stringify(event.payload) })
      .onConflict((conflict) => conflict.columns(['provider', 'event_id']).doNothing())
      .returning('event_id')
      .executeTakeFirst();
    return inserted !== undefined;
  }
}
