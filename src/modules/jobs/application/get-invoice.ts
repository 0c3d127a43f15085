import { mayReadInvoice } from '../domain/invoice.ts';
import { InvoiceNotFoundError } from '../domain/job.errors.ts';
import type { DocumentStore, InvoiceRepository } from './ports.ts';

/** An order's invoice PDF, for its owner or an admin; anyone else, like an order without one yet, gets not found. */
export class GetInvoice {
  readonly #invoices: InvoiceRepository;
  readonly #documents: DocumentStore;

  constructor(deps: { invoices: InvoiceRepository; documents: DocumentStore }) {
    this.#invoices = deps.invoices;
    this.#documents = deps.documents;
  }

  async execute(orderId: string, caller: { id: string; isAdmin: boolean }): Promise<AsyncIterable<Uint8Array>> {
    const invoice = await this.#invoices.findByOrderId(orderId);
    if (invoice === undefined || !mayReadInvoice(invoice, caller)) throw new InvoiceNotFoundError(orderId);
    const content = await this.#documents.read(invoice.documentKey);
    if (content === undefined) throw new InvoiceNotFoundError(orderId);
    return content;
  }
}
