import { sql, type Kysely } from 'kysely';
import { currentTraceparent } from '../../../../platform/observability/tracing.ts';
import type { PaymentRepository } from '../../application/ports.ts';
import type { OperationKind, Payment } from '../../domain/payment.ts';
import { toPayment, toPaymentRow, type PaymentsTables } from './payments-tables.ts';

/**
 * Payments and requested operations in PostgreSQL, written through whatever it is given: the
 * consumers give it the inbox transaction of the message being handled.
 */
export class PgPaymentRepository implements PaymentRepository {
  readonly #db: Kysely<PaymentsTables>;

  constructor(db: Kysely<object>) {
    this.#db = db.$extendTables<PaymentsTables>();
  }

  async lockOrder(orderId: string): Promise<void> {
    // A transaction-level advisory lock: released at commit or rollback, and bounded by lock_timeout.
    await sql`select pg_advisory_xact_lock(hashtextextended(${`payments.order:${orderId}`}, 0))`.execute(this.#db);
  }

  async findPayment(orderId: string): Promise<Payment | undefined> {
    const row = await this.#db.selectFrom('payments.payments').selectAll().where('order_id', '=', orderId).executeTakeFirst();
    return row === undefined ? undefined : toPayment(row);
  }

  async hasOperation(orderId: string, kinds: readonly OperationKind[]): Promise<boolean> {
    if (kinds.length === 0) return false;
    const row = await this.#db.selectFrom('payments.operations').select('id')
      .where('order_id', '=', orderId).where('kind', 'in', [...kinds]).limit(1).executeTakeFirst();
    return row !== undefined;
  }

  async addPayment(payment: Payment): Promise<boolean> {
    const inserted = await this.#db.insertInto('payments.payments').values(toPaymentRow(payment))
      .onConflict((conflict) => conflict.column('order_id').doNothing()).returning('order_id').executeTakeFirst();
    return inserted !== undefined;
  }

  async addOperation(orderId: string, kind: OperationKind): Promise<boolean> {
    // The worker continues the trace of the message handled now (this consumer's span).
    const inserted = await this.#db.insertInto('payments.operations')
      .values({ order_id: orderId, kind, claim_token: null, outcome: null, detail: null, finished_at: null, traceparent: currentTraceparent() ?? null })
      .onConflict((conflict) => conflict.columns(['order_id', 'kind']).doNothing()).returning('id').executeTakeFirst();
    return inserted !== undefined;
  }
}
