import { sql, type Kysely, type Selectable } from 'kysely';
import { recordAdminAct } from '../../../../platform/audit/index.ts';
import type { Database } from '../../../../platform/database/database.ts';
import type { AdminAct, Page, PaymentOperationRecords, PaymentOperationView, RetryCandidate } from '../../application/ports.ts';
import type { PaymentStatus } from '../../domain/payment.ts';
import { toPayment, type OperationsTable, type PaymentsTables } from './payments-tables.ts';

type OperationRow = Selectable<OperationsTable> & { amount: number | null; currency: string | null; payment_status: PaymentStatus | null };

/**
 * Payment operations for admins, in PostgreSQL. Lists read one status at a time, so each query
 * stays on a partial index (`operations_due` for pending, `operations_failed` for failed) however
 * many operations are done.
 */
export class PgPaymentOperationRecords implements PaymentOperationRecords {
  readonly #db: Kysely<PaymentsTables>;

  constructor(db: Database) {
    this.#db = db.$extendTables<PaymentsTables>();
  }

  async list(query: Parameters<PaymentOperationRecords['list']>[0]): Promise<Page<PaymentOperationView>> {
    let select = this.#withPayment();
    // An order's few operations are found by its (order_id, kind) unique index.
    if (query.orderId !== undefined) select = select.where('o.order_id', '=', query.orderId);
    if (query.status !== undefined) select = select.where('o.status', '=', query.status);
    // Keyed by id alone, which follows creation: created_at holds microseconds that a cursor's
    // millisecond timestamp cannot, so keying on it would list an operation twice.
    if (query.after !== undefined) select = select.where('o.id', '>', query.after.id);
    const rows = await select.orderBy('o.id').limit(query.limit + 1).execute();
    const items = rows.slice(0, query.limit).map(toView);
    const last = items.at(-1);
    return { items, next: rows.length > query.limit && last !== undefined ? { createdAt: last.createdAt, id: last.id } : null };
  }

  async findForRetry(id: number): Promise<RetryCandidate | undefined> {
    const row = await this.#withPayment().where('o.id', '=', id).executeTakeFirst();
    if (row === undefined) return undefined;
    const [payment, gaveUp] = await Promise.all([
      this.#db.selectFrom('payments.payments').selectAll().where('order_id', '=', row.order_id).executeTakeFirst(),
      this.#db.selectFrom('payments.operations').select('id').where('order_id', '=', row.order_id).where('kind', 'in', ['void', 'refund']).executeTakeFirst(),
    ]);
    return { operation: toView(row), payment: payment === undefined ? undefined : toPayment(payment), orderGaveUp: gaveUp !== undefined };
  }

  async requeueFailed(id: number, act?: AdminAct): Promise<PaymentOperationView | undefined> {
    const updated = await this.#db.transaction().execute(async (transaction) => {
      const requeued = await this.#requeue(transaction, id);
      if (requeued !== undefined && act !== undefined) await recordAdminAct(transaction, 'payments', act);
      return requeued;
    });
    if (updated === undefined) return undefined;
    const row = await this.#withPayment().where('o.id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toView(row);
  }

  #requeue(db: Kysely<PaymentsTables>, id: number) {
    return db.updateTable('payments.operations')
      .set({
        status: 'pending', attempts: 0, next_attempt_at: sql<Date>`now()`, claim_token: null, outcome: null, finished_at: null,
        updated_at: sql<Date>`now()`,
      })
      .where('id', '=', id).where('status', '=', 'failed')
      .where((eb) => eb.or([
        eb('kind', 'in', ['void', 'refund']),
        eb.not(eb.exists(eb.selectFrom('payments.operations as later').select('later.id')
          .whereRef('later.order_id', '=', 'payments.operations.order_id').where('later.kind', 'in', ['void', 'refund']))),
      ]))
      .returning('id')
      .executeTakeFirst();
  }

  #withPayment() {
    return this.#db.selectFrom('payments.operations as o')
      .leftJoin('payments.payments as p', 'p.order_id', 'o.order_id')
      .selectAll('o')
      .select(['p.amount', 'p.currency', 'p.status as payment_status']);
  }
}

function toView(row: OperationRow): PaymentOperationView {
  return {
    id: row.id, orderId: row.order_id, kind: row.kind, status: row.status, attempts: row.attempts, outcome: row.outcome,
    lastError: row.detail, createdAt: row.created_at, updatedAt: row.updated_at, finishedAt: row.finished_at,
    payment: row.amount === null || row.currency === null || row.payment_status === null
      ? undefined
      : { amount: { amount: row.amount, currency: row.currency }, status: row.payment_status },
  };
}
