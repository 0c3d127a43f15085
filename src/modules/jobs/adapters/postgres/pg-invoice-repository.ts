import type { Kysely } from 'kysely';
import type { InvoiceRepository } from '../../application/ports.ts';
import type { InvoiceFacts, StoredInvoice } from '../../domain/invoice.ts';
import type { JobsTables } from './jobs-tables.ts';

/** Invoices in PostgreSQL; given a transaction (a consumer's inbox transaction), records join it. */
export class PgInvoiceRepository implements InvoiceRepository {
  readonly #db: Kysely<JobsTables>;

  constructor(db: Kysely<object>) {
    this.#db = db.$extendTables<JobsTables>();
  }

  async findByOrderId(orderId: string): Promise<StoredInvoice | undefined> {
    const row = await this.#db.selectFrom('jobs.invoices').select(['order_id', 'customer_id', 'facts', 'document_key', 'created_at'])
      .where('order_id', '=', orderId).executeTakeFirst();
    return row === undefined ? undefined : {
      // Written by `record` from facts a consumer validated (or, by migration 003, from an invoice job's input).
      orderId: row.order_id, customerId: row.customer_id, facts: row.facts as InvoiceFacts | null, documentKey: row.document_key, createdAt: row.created_at,
    };
  }

  async record(invoice: StoredInvoice): Promise<boolean> {
    const inserted = await this.#db.insertInto('jobs.invoices').values({
      order_id: invoice.orderId, customer_id: invoice.customerId, facts: invoice.facts === null ? null : { ...invoice.facts },
      document_key: invoice.documentKey, created_at: invoice.createdAt,
    }).onConflict((conflict) => conflict.column('order_id').doNothing()).returning('order_id').executeTakeFirst();
    return inserted !== undefined;
  }

  async markDrawn(orderId: string, documentKey: string): Promise<void> {
    await this.#db.updateTable('jobs.invoices').set({ document_key: documentKey })
      .where('order_id', '=', orderId).where('document_key', 'is distinct from', documentKey).execute();
  }
}
