import { invoiceDocumentKey, type Invoice } from '../domain/invoice.ts';
import { isFinished } from '../domain/job.ts';
import { describeFailure } from './describe-failure.ts';
import type { DocumentStore, InvoiceRenderer, InvoiceRepository, JobRepository } from './ports.ts';
import type { ConfirmedOrder } from './schedule-invoice.ts';

/** Generous: an invoice of a few hundred lines is well under a megabyte. */
const maxInvoiceBytes = 20 * 1024 * 1024;

/** One attempt at an invoice job: draws the PDF into the documents store and records it for its order. */
export class RenderInvoice {
  readonly #jobs: JobRepository;
  readonly #invoices: InvoiceRepository;
  readonly #documents: DocumentStore;
  readonly #renderer: InvoiceRenderer;
  readonly #seller: string;
  readonly #now: () => Date;

  constructor(deps: {
    jobs: JobRepository; invoices: InvoiceRepository; documents: DocumentStore; renderer: InvoiceRenderer; seller: string; now?: () => Date;
  }) {
    this.#jobs = deps.jobs;
    this.#invoices = deps.invoices;
    this.#documents = deps.documents;
    this.#renderer = deps.renderer;
    this.#seller = deps.seller;
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(jobId: string, options: { lastAttempt: boolean }): Promise<void> {
    const job = await this.#jobs.startAttempt(jobId, this.#now());
    if (job === undefined || isFinished(job.status) || job.input === null || job.subject === null) return;
    try {
      // Written by ScheduleInvoice from a payload it validated.
      const order = job.input as unknown as ConfirmedOrder;
      const invoice: Invoice = {
        orderId: order.orderId, seller: this.#seller, customer: order.customer,
        lines: order.lines, total: order.total, issuedAt: new Date(order.confirmedAt),
      };
      const documentKey = invoiceDocumentKey(order.orderId);
      await this.#documents.put(documentKey, this.#renderer.render(invoice), { maxBytes: maxInvoiceBytes });
      await this.#invoices.addAndFinishJob({ orderId: order.orderId, customerId: order.customer.id, jobId: job.id, documentKey, createdAt: this.#now() }, this.#now());
    } catch (error) {
      const reason = describeFailure(error);
      if (options.lastAttempt) await this.#jobs.finish(job.id, { status: 'failed', reason }, this.#now());
      else await this.#jobs.recordFailedAttempt(job.id, reason, this.#now());
      throw error;
    }
  }
}
