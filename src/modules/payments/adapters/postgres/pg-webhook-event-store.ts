import { sql, type Kysely } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { appendToOutbox, createEnvelope } from '../../../../platform/messaging/index.ts';
import type { PaymentMessage } from '../../application/payment-messages.ts';
import type {
  LockedPayment, PaymentOperation, ProviderPaymentReference, WebhookEventStore, WebhookEventTransactions,
} from '../../application/ports.ts';
import type { OperationResult, Payment } from '../../domain/payment.ts';
import { toPayment, type PaymentsTables } from './payments-tables.ts';

/**
 * Verified provider webhook events in `payments.webhook_events`, one row per provider event id,
 * and the payment changes they cause, written through the transaction it is given.
 */
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

  async lockPayment(reference: ProviderPaymentReference): Promise<LockedPayment | undefined> {
    const found = await this.#db.selectFrom('payments.payments').select('order_id')
      .where((where) => reference.orderId === undefined
        ? where('provider_payment_id', '=', reference.providerPaymentId)
        : where.or([
          where('provider_payment_id', '=', reference.providerPaymentId),
          where.and([where('order_id', '=', reference.orderId), where('provider_payment_id', 'is', null)]),
        ]))
      .limit(1).executeTakeFirst();
    if (found === undefined) return undefined;
    // Operations before the payment, in the order the worker's settlement takes them, so the two never deadlock.
    const pending = await this.#db.selectFrom('payments.operations').select(['id', 'order_id', 'kind', 'status', 'attempts'])
      .where('order_id', '=', found.order_id).where('status', '=', 'pending').orderBy('id').forUpdate().execute();
    const row = await this.#db.selectFrom('payments.payments').selectAll().where('order_id', '=', found.order_id).forUpdate().executeTakeFirst();
    if (row === undefined) return undefined;
    const first = pending[0];
    const pendingOperation: PaymentOperation | undefined = first === undefined ? undefined
      : { id: first.id, orderId: first.order_id, kind: first.kind, status: first.status, attempts: first.attempts };
    return { payment: toPayment(row), pendingOperation };
  }

  async applyChange(payment: Payment, message: PaymentMessage, operation: { id: number; result: OperationResult } | undefined): Promise<void> {
    await this.#db.updateTable('payments.payments')
      .set({ status: payment.status, provider_payment_id: payment.providerPaymentId, decline_reason: payment.declineReason, updated_at: payment.updatedAt })
      .where('order_id', '=', payment.orderId)
      .execute();
    if (operation !== undefined) {
      await this.#db.updateTable('payments.operations')
        .set({
          status: operation.result.status, outcome: operation.result.outcome, detail: operation.result.detail,
          claim_token: null, finished_at: sql<Date>`now()`, updated_at: sql<Date>`now()`,
        })
        .where('id', '=', operation.id).where('status', '=', 'pending')
        .execute();
    }
    await appendToOutbox(this.#db, [createEnvelope(message)]);
  }
}

/** Runs webhook event work in a PostgreSQL transaction. */
export class PgWebhookEventTransactions implements WebhookEventTransactions {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  run<T>(work: (events: WebhookEventStore) => Promise<T>): Promise<T> {
    return this.#db.transaction().execute((transaction) => work(new PgWebhookEventStore(transaction)));
  }
}
