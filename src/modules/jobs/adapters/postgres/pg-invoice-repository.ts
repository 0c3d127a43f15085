import type { Kysely } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import type { InvoiceRepository } from '../../application/ports.ts';
import type { InvoiceDocument } from '../../domain/invoice.ts';
import type { JobsTables } from './jobs-tables.ts';
import { emitEnded, toJob } from './pg-job-repository.ts';

/** Invoice records in PostgreSQL; recording one ends its job in the same transaction. */
export class PgInvoiceRepository implements InvoiceRepository {
  readonly #db: Kysely<JobsTables>;

  constructor(db: Database) {
    this.#db = db.$extendTables<JobsTables>();
  }

  async findByOrderId(orderId: string): Promise<InvoiceDocument | undefined> {
    const row = await this.#db.selectFrom('jobs.invoices').selectAll().where('order_id', '=', orderId).executeTakeFirst();
    return row === undefined ? undefined : {
      orderId: row.order_id, customerId: row.customer_id, jobId: row.job_id, documentKey: row.document_key, createdAt: row.created_at,
    };
  }

  async addAndFinishJob(invoice: InvoiceDocument, now: Date): Promise<void> {
    await this.#db.transaction().execute(async (transaction) => {
      await transaction.insertInto('jobs.invoices').values({
        order_id: invoice.orderId, customer_id: invoice.customerId, job_id: invoice.jobId,
        document_key: invoice.documentKey, created_at: invoice.createdAt,
      }).onConflict((conflict) => conflict.column('order_id').doNothing()).execute();
      const row = await transaction.updateTable('jobs.jobs')
        .set({ status: 'succeeded', result_key: invoice.documentKey, progress_done: 1, progress_total: 1, finished_at: now, updated_at: now })
        .where('id', '=', invoice.jobId).where('status', 'in', ['queued', 'running'])
        .returningAll().executeTakeFirst();
      if (row !== undefined) await emitEnded(transaction, toJob(row));
    });
  }
}
