import type { InvoiceFacts } from '../domain/invoice.ts';
import type { InvoiceRepository } from './ports.ts';

/**
 * Records the invoice of a confirmed order, to be drawn when it is first downloaded: what it will
 * state is fixed now (the order as confirmed, the seller of today). An order announced twice keeps
 * its first record.
 */
export class RecordInvoice {
  readonly #invoices: Pick<InvoiceRepository, 'record'>;
  readonly #seller: string;
  readonly #now: () => Date;

  constructor(deps: { invoices: Pick<InvoiceRepository, 'record'>; seller: string; now?: () => Date }) {
    this.#invoices = deps.invoices;
    this.#seller = deps.seller;
    this.#now = deps.now ?? (() => new Date());
  }

  /** True when recorded, false when the order had an invoice already. */
  async execute(order: Omit<InvoiceFacts, 'seller'>): Promise<boolean> {
    return this.#invoices.record({
      orderId: order.orderId, customerId: order.customer.id, facts: { ...order, seller: this.#seller }, documentKey: null, createdAt: this.#now(),
    });
  }
}
