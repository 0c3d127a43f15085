import type { Kysely, Transaction } from 'kysely';
import type { InvoiceRepository } from '../../application/ports.ts';
import type { StoredInvoice } from '../../domain/invoice.ts';
import type { JobsTables } from './jobs-tables.ts';

/**
 * The invoices one batch of confirmations records, in memory for its transaction: `read` learns
 * which of the batch's orders have an invoice (one statement), `record` answers from that, and
 * `write` inserts the new ones in one statement before the transaction commits. An invoice another
 * transaction recorded meanwhile makes `write` throw: the batch is then recorded one by one.
 */
export class BatchInvoiceRecords implements Pick<InvoiceRepository, 'record'> {
  readonly #db: Kysely<JobsTables>;
  readonly #orders: ReadonlySet<string>;
  readonly #invoiced: Set<string>;
  readonly #new: StoredInvoice[] = [];

  private constructor(db: Kysely<JobsTables>, orders: ReadonlySet<string>, invoiced: Set<string>) {
    this.#db = db;
    this.#orders = orders;
    this.#invoiced = invoiced;
  }

  static async read(transaction: Transaction<object>, orderIds: readonly string[]): Promise<BatchInvoiceRecords> {
    const db = transaction.$extendTables<JobsTables>();
    const orders = [...new Set(orderIds)];
    const invoiced = orders.length === 0 ? [] : await db.selectFrom('jobs.invoices').select('order_id').where('order_id', 'in', orders).execute();
    return new BatchInvoiceRecords(db, new Set(orders), new Set(invoiced.map((row) => row.order_id)));
  }

  record(invoice: StoredInvoice): Promise<boolean> {
    if (!this.#orders.has(invoice.orderId)) return Promise.reject(new Error(`the invoice of order ${invoice.orderId} was not read for this batch`));
    if (this.#invoiced.has(invoice.orderId)) return Promise.resolve(false);
    this.#invoiced.add(invoice.orderId);
    this.#new.push(invoice);
    return Promise.resolve(true);
  }

  async write(): Promise<void> {
    const invoices = this.#new.splice(0);
    if (invoices.length === 0) return;
    const inserted = await this.#db.insertInto('jobs.invoices')
      .values(invoices.map((invoice) => ({
        order_id: invoice.orderId, customer_id: invoice.customerId, facts: invoice.facts === null ? null : { ...invoice.facts },
        document_key: invoice.documentKey, created_at: invoice.createdAt,
      })))
      .onConflict((conflict) => conflict.column('order_id').doNothing()).returning('order_id').execute();
    if (inserted.length !== invoices.length) throw new Error('an invoice of the batch was recorded by another transaction meanwhile');
  }
}
