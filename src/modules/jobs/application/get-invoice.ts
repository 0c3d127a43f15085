import { invoiceDocumentKey, invoiceOf, mayReadInvoice, type InvoiceFacts } from '../domain/invoice.ts';
import { InvoiceNotFoundError } from '../domain/job.errors.ts';
import type { DocumentStore, InvoiceRenderer, InvoiceRepository } from './ports.ts';

/** Generous: an invoice of a few hundred lines is well under a megabyte. */
const maxInvoiceBytes = 20 * 1024 * 1024;

/**
 * An order's invoice PDF, for its owner or an admin; anyone else, like an order not confirmed, gets
 * not found. The first download draws it from the facts recorded at confirmation and stores it;
 * every later one reads that stored document (decision 0014). Drawing is deterministic, so two
 * processes drawing the same invoice at once store the same bytes; within one process concurrent
 * first downloads share one drawing.
 */
export class GetInvoice {
  readonly #invoices: InvoiceRepository;
  readonly #documents: DocumentStore;
  readonly #renderer: InvoiceRenderer;
  readonly #seller: string;
  readonly #drawing = new Map<string, Promise<Uint8Array>>();

  constructor(deps: { invoices: InvoiceRepository; documents: DocumentStore; renderer: InvoiceRenderer; seller: string }) {
    this.#invoices = deps.invoices;
    this.#documents = deps.documents;
    this.#renderer = deps.renderer;
    this.#seller = deps.seller;
  }

  async execute(orderId: string, caller: { id: string; isAdmin: boolean }): Promise<AsyncIterable<Uint8Array>> {
    const invoice = await this.#invoices.findByOrderId(orderId);
    if (invoice === undefined || !mayReadInvoice(invoice, caller)) throw new InvoiceNotFoundError(orderId);
    if (invoice.documentKey !== null) {
      const content = await this.#documents.read(invoice.documentKey);
      if (content !== undefined) return content;
    }
    // Not drawn yet, or its document is gone and the facts can draw it again.
    if (invoice.facts === null) throw new InvoiceNotFoundError(orderId);
    return oneChunk(await this.#drawnOnce(invoice.facts));
  }

  #drawnOnce(facts: InvoiceFacts): Promise<Uint8Array> {
    let drawing = this.#drawing.get(facts.orderId);
    if (drawing === undefined) {
      drawing = this.#draw(facts).finally(() => this.#drawing.delete(facts.orderId));
      this.#drawing.set(facts.orderId, drawing);
    }
    return drawing;
  }

  /** Draws the invoice, stores it, then records where: a crash in between leaves it to be drawn again, identically. */
  async #draw(facts: InvoiceFacts): Promise<Uint8Array> {
    const pdf = await collect(this.#renderer.render(invoiceOf(facts, this.#seller)));
    const documentKey = invoiceDocumentKey(facts.orderId);
    await this.#documents.put(documentKey, oneChunk(pdf), { maxBytes: maxInvoiceBytes });
    await this.#invoices.markDrawn(facts.orderId, documentKey);
    return pdf;
  }
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for await (const chunk of stream) {
    bytes += chunk.length;
    if (bytes > maxInvoiceBytes) throw new Error(`an invoice drew more than ${String(maxInvoiceBytes)} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

// eslint-disable-next-line @typescript-eslint/require-await -- an async iterable of one chunk
async function* oneChunk(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}
