import PDFDocument from 'pdfkit';
import { WorkLimiter } from '../../../../platform/concurrency/work-limiter.ts';
import type { InvoiceRenderer } from '../../application/ports.ts';
import { formatMoney, type Invoice } from '../../domain/invoice.ts';

/**
 * Draws invoices with pdfkit and streams them out. pdfkit draws a whole invoice on the event loop in
 * one go, so at most `concurrency` invoices are drawn and held while they are written out; the next
 * one is drawn only when a stream has ended, and requests get the event loop in between. A turn is
 * taken when the stream is first read and given back when it ends or is abandoned; at most
 * `maxQueued` invoices wait for one, each at most `maxWaitMs`, and the others are refused with
 * OverloadedError. The same invoice draws the same bytes (its date is the PDF's creation date).
 */
export class PdfkitInvoiceRenderer implements InvoiceRenderer {
  /** Every invoice is drawn in a turn of it; read by metrics. */
  readonly limiter: WorkLimiter;

  constructor(options: { concurrency?: number; maxQueued?: number; maxWaitMs?: number } = {}) {
    this.limiter = new WorkLimiter({
      resource: 'PDF rendering', concurrency: options.concurrency ?? 1,
      maxQueued: options.maxQueued ?? Infinity, maxWaitMs: options.maxWaitMs ?? Infinity,
    });
  }

  render(invoice: Invoice): AsyncIterable<Uint8Array> {
    return this.#drawnInTurn(invoice);
  }

  async *#drawnInTurn(invoice: Invoice): AsyncIterable<Uint8Array> {
    const release = await this.limiter.acquire();
    try {
      yield* draw(invoice);
    } finally {
      release();
    }
  }
}

/** One invoice as a PDF stream; pdfkit draws it all at once, here, and the stream hands it out. */
function draw(invoice: Invoice): AsyncIterable<Uint8Array> {
  const document = new PDFDocument({
    size: 'A4', margin: 50,
    info: { Title: `Invoice for order ${invoice.orderId}`, Author: invoice.seller, CreationDate: invoice.issuedAt },
  });
  document.fontSize(20).text(invoice.seller);
  document.moveDown().fontSize(16).text('Invoice');
  document.fontSize(10)
    .text(`Order: ${invoice.orderId}`)
    .text(`Date: ${invoice.issuedAt.toISOString().slice(0, 10)}`)
    .text(`Customer: ${invoice.customer.email} (${invoice.customer.id})`);
  document.moveDown();
  for (const line of invoice.lines) {
    document.text(`${line.quantity} x ${line.name} (${line.sku}) at ${formatMoney(line.unitPrice)} = ${formatMoney(line.lineTotal)}`);
  }
  document.moveDown().fontSize(12).text(`Total: ${formatMoney(invoice.total)}`);
  document.end();
  return document;
}
