import PDFDocument from 'pdfkit';
import type { InvoiceRenderer } from '../../application/ports.ts';
import { formatMoney, type Invoice } from '../../domain/invoice.ts';

/** Draws invoices with pdfkit, streamed as they are drawn. */
export class PdfkitInvoiceRenderer implements InvoiceRenderer {
  render(invoice: Invoice): AsyncIterable<Uint8Array> {
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
}
