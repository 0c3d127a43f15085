import { sql, type Kysely, type Transaction } from 'kysely';
import { currentTraceparent } from '../../../../platform/observability/tracing.ts';
import type { PaymentRepository } from '../../application/ports.ts';
import type { OperationKind, Payment } from '../../domain/payment.ts';
import { toPaymentRow, type PaymentsTables } from './payments-tables.ts';

/**
 * The payments commands of one batch, recorded in memory for its transaction: `lock` takes the
 * orders' locks (the same advisory locks `PgPaymentRepository.lockOrder` takes, in order-id order)
 * and reads which payments and operations they have, in three statements; the commands then record
 * against that here, in order; `write` inserts the new payments and operations in two statements
 * before the transaction commits. An order outside the batch, or a row another transaction wrote
 * meanwhile, throws: the batch then fails and its commands are recorded one by one.
 */
export class BatchPaymentRepository implements PaymentRepository {
  readonly #db: Kysely<PaymentsTables>;
  readonly #orders: ReadonlySet<string>;
  readonly #paid: Set<string>;
  /** `order id:kind` of every operation the orders have, those of this batch included. */
  readonly #operations: Set<string>;
  readonly #newPayments: Payment[] = [];
  readonly #newOperations: { orderId: string; kind: OperationKind; traceparent: string | null }[] = [];

  private constructor(db: Kysely<PaymentsTables>, orders: ReadonlySet<string>, paid: Set<string>, operations: Set<string>) {
    this.#db = db;
    this.#orders = orders;
    this.#paid = paid;
    this.#operations = operations;
  }

  static async lock(transaction: Transaction<object>, orderIds: readonly string[]): Promise<BatchPaymentRepository> {
    const db = transaction.$extendTables<PaymentsTables>();
    const orders = [...new Set(orderIds)].sort();
    await sql`
      select pg_advisory_xact_lock(hashtextextended('payments.order:' || locked.order_id, 0))
      from unnest(${orders}::text[]) with ordinality as locked (order_id, position)
      order by locked.position`.execute(db);
    const paid = orders.length === 0 ? [] : await db.selectFrom('payments.payments').select('order_id').where('order_id', 'in', orders).execute();
    const operations = orders.length === 0 ? [] : await db.selectFrom('payments.operations').select(['order_id', 'kind']).where('order_id', 'in', orders).execute();
    return new BatchPaymentRepository(db, new Set(orders), new Set(paid.map((row) => row.order_id)), new Set(operations.map((row) => `${row.order_id}:${row.kind}`)));
  }

  lockOrder(orderId: string): Promise<void> {
    return this.#mustHold(orderId);
  }

  findPayment(): Promise<Payment | undefined> {
    return Promise.reject(new Error('a batch of payments commands reads no payment'));
  }

  async hasOperation(orderId: string, kinds: readonly OperationKind[]): Promise<boolean> {
    await this.#mustHold(orderId);
    return kinds.some((kind) => this.#operations.has(`${orderId}:${kind}`));
  }

  async addPayment(payment: Payment): Promise<boolean> {
    await this.#mustHold(payment.orderId);
    if (this.#paid.has(payment.orderId)) return false;
    this.#paid.add(payment.orderId);
    this.#newPayments.push(payment);
    return true;
  }

  async addOperation(orderId: string, kind: OperationKind): Promise<boolean> {
    await this.#mustHold(orderId);
    if (this.#operations.has(`${orderId}:${kind}`)) return false;
    this.#operations.add(`${orderId}:${kind}`);
    // The worker continues the trace of the message handled now (its consumer span).
    this.#newOperations.push({ orderId, kind, traceparent: currentTraceparent() ?? null });
    return true;
  }

  /** Inserts the batch's payments, then its operations in the order they were queued (their ids give an order's operations their order). */
  async write(): Promise<void> {
    const payments = this.#newPayments.splice(0);
    if (payments.length > 0) {
      const inserted = await this.#db.insertInto('payments.payments').values(payments.map(toPaymentRow))
        .onConflict((conflict) => conflict.column('order_id').doNothing()).returning('order_id').execute();
      if (inserted.length !== payments.length) throw new Error('a payment of the batch was recorded by another transaction meanwhile');
    }
    const operations = this.#newOperations.splice(0);
    if (operations.length > 0) {
      const inserted = await this.#db.insertInto('payments.operations')
        .values(operations.map(({ orderId, kind, traceparent }) => ({ order_id: orderId, kind, claim_token: null, outcome: null, detail: null, finished_at: null, traceparent })))
        .onConflict((conflict) => conflict.columns(['order_id', 'kind']).doNothing()).returning('id').execute();
      if (inserted.length !== operations.length) throw new Error('an operation of the batch was recorded by another transaction meanwhile');
    }
  }

  #mustHold(orderId: string): Promise<void> {
    return this.#orders.has(orderId) ? Promise.resolve() : Promise.reject(new Error(`order ${orderId} was not locked for this batch`));
  }
}
