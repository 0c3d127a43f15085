import { minorUnitDigits } from '../../../kernel/money.ts';
import type { Money, OrderNotice } from './notification-event.ts';

/** An email as the customer reads it: a subject, a plain-text body and the same in simple HTML. */
export interface EmailContent {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

const formatters = new Map<string, Intl.NumberFormat>();

/** `{ amount: 2598, currency: 'EUR' }` → `€25.98`; the currency decides its number of minor digits (JPY has none). */
export function formatMoney(money: Money): string {
  let formatter = formatters.get(money.currency);
  if (formatter === undefined) {
    formatter = new Intl.NumberFormat('en-US', { style: 'currency', currency: money.currency });
    formatters.set(money.currency, formatter);
  }
  return formatter.format(money.amount / 10 ** minorUnitDigits(money.currency));
}

/** Renders the customer email for an order notice. */
export function renderEmail(notice: OrderNotice): EmailContent {
  switch (notice.kind) {
    case 'order-confirmed': {
      const lines = notice.lines.map((line) => ({ text: `${line.quantity} × ${line.name} (${line.sku})`, amount: formatMoney(line.lineTotal) }));
      const total = formatMoney(notice.total);
      return compose(`Your order ${notice.orderId} is confirmed`, [
        { text: `Thank you for your order ${notice.orderId}. It is confirmed and on its way to being packed.` },
        { table: lines, total },
      ]);
    }
    case 'order-cancelled':
      return compose(`Your order ${notice.orderId} was cancelled`, [
        { text: `Your order ${notice.orderId} was cancelled.` },
        { text: `Reason: ${notice.reason}` },
      ]);
    case 'order-refunded':
      return compose(`Your order ${notice.orderId} was cancelled and refunded`, [
        { text: `Your order ${notice.orderId} was cancelled.` },
        { text: `Reason: ${notice.reason}` },
        { text: `We refunded ${formatMoney(notice.refunded)} to your original payment method.` },
      ]);
  }
}

type Block = { text: string } | { table: { text: string; amount: string }[]; total: string };

function compose(subject: string, blocks: readonly Block[]): EmailContent {
  const text = ['Hello,', ...blocks.map(blockText), 'OrderStream'].join('\n\n') + '\n';
  const html = [
    '<!doctype html>',
    `<html><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>`,
    '<body style="font-family: sans-serif">',
    '<p>Hello,</p>',
    ...blocks.map(blockHtml),
    '<p>OrderStream</p>',
    '</body></html>',
  ].join('\n') + '\n';
  return { subject, text, html };
}

function blockText(block: Block): string {
  if ('text' in block) return block.text;
  return [...block.table.map((row) => `  ${row.text}: ${row.amount}`), `Total: ${block.total}`].join('\n');
}

function blockHtml(block: Block): string {
  if ('text' in block) return `<p>${escapeHtml(block.text)}</p>`;
  const rows = block.table.map((row) => `<tr><td>${escapeHtml(row.text)}</td><td style="text-align: right">${escapeHtml(row.amount)}</td></tr>`);
  return [
    '<table>',
    ...rows,
    `<tr><th style="text-align: left">Total</th><th style="text-align: right">${escapeHtml(block.total)}</th></tr>`,
    '</table>',
  ].join('\n');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}
