import { minorUnitDigits, type Money } from '../../../kernel/money.ts';

export interface InvoiceLine {
  readonly sku: string;
  readonly name: string;
  readonly quantity: number;
  readonly unitPrice: Money;
  readonly lineTotal: Money;
}

/** What an invoice states: who sold what to whom, for how much, when. */
export interface Invoice {
  readonly orderId: string;
  readonly seller: string;
  readonly customer: { readonly id: string; readonly email: string };
  readonly lines: readonly InvoiceLine[];
  readonly total: Money;
  readonly issuedAt: Date;
}

/** The confirmed order an invoice is drawn from, as the orders module announced it. */
export interface InvoiceFacts {
  readonly orderId: string;
  readonly customer: { readonly id: string; readonly email: string };
  readonly lines: readonly InvoiceLine[];
  readonly total: Money;
  /** ISO 8601; the invoice's date. */
  readonly confirmedAt: string;
  /** The seller when the order was confirmed; absent for orders handed over by invoice jobs of before. */
  readonly seller?: string;
}

/**
 * An order's invoice and whose it is: drawn once (`documentKey` set) or still to be drawn from its
 * `facts` at the first download. One drawn before invoices were drawn on download has no facts.
 */
export interface StoredInvoice {
  readonly orderId: string;
  readonly customerId: string;
  readonly facts: InvoiceFacts | null;
  readonly documentKey: string | null;
  readonly createdAt: Date;
}

/** What the invoice of `facts` states; `seller` names the seller where the facts do not. */
export function invoiceOf(facts: InvoiceFacts, seller: string): Invoice {
  return {
    orderId: facts.orderId, seller: facts.seller ?? seller, customer: facts.customer, lines: facts.lines, total: facts.total, issuedAt: new Date(facts.confirmedAt),
  };
}

/** Where an order's invoice PDF is kept in the documents store. */
export function invoiceDocumentKey(orderId: string): string {
  return `invoices/${orderId.replace(/[^A-Za-z0-9._-]/g, '_')}.pdf`;
}

/** The owner of the order or an admin may read its invoice; nobody else learns it exists. */
export function mayReadInvoice(invoice: StoredInvoice, caller: { id: string; isAdmin: boolean }): boolean {
  return caller.isAdmin || invoice.customerId === caller.id;
}

/** "12.50 EUR" for 1250 EUR, using the currency's own number of decimals. */
export function formatMoney(money: Money): string {
  const digits = minorUnitDigits(money.currency);
  const value = (money.amount / 10 ** digits).toFixed(digits);
  return `${value} ${money.currency}`;
}
