import { minorUnitDigits, type Money } from '../../../kernel/money.ts';
import type { Job } from './job.ts';

/** The formats an order export is written in: comma-separated values, or one JSON object per line. */
export const exportFormats = ['csv', 'jsonl'] as const;
export type ExportFormat = (typeof exportFormats)[number];

/** The order statuses an export may be narrowed to (those of the orders module). */
export const exportableStatuses = ['PENDING', 'RESERVED', 'AUTHORIZED', 'CONFIRMED', 'CANCELLING', 'CANCELLED'] as const;

/** What an export is narrowed to (every filter given must hold), as the job keeps it: instants in ISO 8601. */
export interface ExportFilter {
  readonly status?: (typeof exportableStatuses)[number];
  readonly from?: string;
  readonly to?: string;
  readonly customerId?: string;
  readonly email?: string;
  readonly sku?: string;
}

/**
 * What an export job writes, kept in the job's input: the format, the filter, and the instant the
 * export was asked at. Only orders placed before that instant are written, so the set does not grow
 * while the file is written, and a resumed export writes the same orders.
 */
export interface ExportRequest {
  readonly format: ExportFormat;
  readonly filter: ExportFilter;
  readonly placedBefore: string;
}

/** Where an export page ended, in the orders module's full precision; the next page starts after this order. */
export interface ExportPosition {
  readonly placedAt: string;
  readonly orderId: string;
}

/** One order as an export writes it: what the orders module lists, in plain values. */
export interface ExportedOrder {
  readonly id: string;
  readonly status: string;
  readonly customerId: string;
  readonly customerEmail: string;
  readonly lines: readonly { readonly sku: string; readonly quantity: number; readonly lineTotal: Money }[];
  readonly total: Money;
  readonly refunded: Money | null;
  readonly cancellationReason: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/**
 * The CSV columns, in order (documented in the README). Money is in minor units (`total_minor`)
 * and formatted with its currency's decimals (`total`, `12.50`); `lines` is `SKU x quantity` per
 * line, separated by `; `.
 */
export const exportColumns = [
  'order_id', 'status', 'customer_id', 'customer_email', 'created_at', 'updated_at', 'currency',
  'total_minor', 'total', 'refunded_minor', 'refunded', 'line_count', 'lines', 'cancellation_reason',
] as const;

/** An amount in its currency's major unit with exactly its minor digits: 1250 EUR → `12.50`, 500 JPY → `500`. */
export function formatAmount(money: Money): string {
  const digits = minorUnitDigits(money.currency);
  if (digits === 0) return String(money.amount);
  const text = String(money.amount).padStart(digits + 1, '0');
  return `${text.slice(0, -digits)}.${text.slice(-digits)}`;
}

/**
 * One CSV cell. A text that a spreadsheet would read as a formula (it starts with `=`, `+`, `-`,
 * `@`, a tab or a carriage return) gets a leading apostrophe, so opening the file runs nothing; a
 * cell with a comma, quote or line break is quoted, its quotes doubled. Numbers we write ourselves
 * (`total_minor`) are not text and are left as they are.
 */
export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** The header line of a CSV export, with its line break. */
export function csvHeader(): string {
  return `${exportColumns.join(',')}\r\n`;
}

function rowValues(order: ExportedOrder): (string | number | null)[] {
  return [
    order.id, order.status, order.customerId, order.customerEmail, order.createdAt.toISOString(), order.updatedAt.toISOString(),
    order.total.currency, order.total.amount, formatAmount(order.total),
    order.refunded?.amount ?? null, order.refunded === null ? null : formatAmount(order.refunded),
    order.lines.length, order.lines.map((line) => `${line.sku} x ${String(line.quantity)}`).join('; '), order.cancellationReason,
  ];
}

/** One order as a CSV record (RFC 4180, CRLF line ends). */
export function csvRecord(order: ExportedOrder): string {
  return `${rowValues(order).map(csvCell).join(',')}\r\n`;
}

/**
 * One order as a JSON line: the same fields by the same names, money as `{ amount, currency }` in
 * minor units plus its formatted amount, and each line as its own object. JSON has no formulas, so
 * nothing is neutralised.
 */
export function jsonRecord(order: ExportedOrder): string {
  return `${JSON.stringify({
    order_id: order.id, status: order.status, customer_id: order.customerId, customer_email: order.customerEmail,
    created_at: order.createdAt.toISOString(), updated_at: order.updatedAt.toISOString(),
    total: { ...order.total, formatted: formatAmount(order.total) },
    refunded: order.refunded === null ? null : { ...order.refunded, formatted: formatAmount(order.refunded) },
    lines: order.lines.map((line) => ({ sku: line.sku, quantity: line.quantity, line_total: { ...line.lineTotal } })),
    cancellation_reason: order.cancellationReason,
  })}\n`;
}

/** The file's first bytes for a format (the CSV header, nothing for JSON Lines). */
export function exportPreamble(format: ExportFormat): string {
  return format === 'csv' ? csvHeader() : '';
}

/** One order in a format. */
export function exportRecord(format: ExportFormat, order: ExportedOrder): string {
  return format === 'csv' ? csvRecord(order) : jsonRecord(order);
}

/** The stored document of an export's `part` (counted from 1): `exports/<job>/part-000001.csv`. */
export function exportPartKey(jobId: string, part: number, format: ExportFormat): string {
  return `exports/${jobId}/part-${String(part).padStart(6, '0')}.${format}`;
}

/** What an export job was asked to write, as StartExport stored it in the job's input. */
export function exportRequestOf(job: Job): ExportRequest {
  const input = job.input as Partial<ExportRequest> | null;
  const format = exportFormats.find((candidate) => candidate === input?.format);
  if (input === null || typeof input.placedBefore !== 'string' || format === undefined) throw new Error(`job ${job.id} is not an order export`);
  return { format, filter: input.filter ?? {}, placedBefore: input.placedBefore };
}
