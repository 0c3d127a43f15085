import { isCurrencyCode, type Money } from '../../../kernel/money.ts';
import { echoed } from './echoed-text.ts';
import { InvalidImportFileError } from './job.errors.ts';
import { rowError, type RowError, type RowFault } from './job.ts';

/** The columns of a catalogue import file, in this order, named in its first line. */
export const importColumns = ['sku', 'name', 'description', 'price', 'currency', 'stock'] as const;

/** One valid row of an import: a product and its on-hand stock. */
export interface ImportRow {
  readonly line: number;
  readonly sku: string;
  readonly name: string;
  readonly description: string;
  readonly price: Money;
  readonly stock: number;
}

// The catalogue's and inventory's rules, checked here so a bad row is reported by line, not half applied.
const skuPattern = /^[A-Z0-9][A-Z0-9._-]{0,63}$/;
const maxNameLength = 200;
const maxDescriptionLength = 5000;
const maxStock = 1_000_000_000;
// What a decoder puts in place of bytes that are not UTF-8.
const replacementCharacter = '\uFFFD';
// PostgreSQL stores no text holding U+0000, so a cell with one could never be saved.
const nulCharacter = '\u0000';

/** Accepts the header line or explains what is wrong with the file. */
export function checkImportHeader(values: readonly string[] | undefined): void {
  if (values === undefined) throw new InvalidImportFileError('The file is empty; its first line must name the columns');
  if (values.some((value) => value.includes(nulCharacter))) throw new InvalidImportFileError('The first line contains the NUL character (U+0000); it must name the columns');
  const names = values.map((value, index) => (index === 0 ? value.replace(/^\uFEFF/, '') : value).trim().toLowerCase());
  if (names.length !== importColumns.length || names.some((name, index) => name !== importColumns[index])) {
    throw new InvalidImportFileError(`The first line must name the columns ${importColumns.join(',')}; it is ${echoed(values.join(','))}`);
  }
}

type ImportColumn = (typeof importColumns)[number];

/** A column's rule: the trimmed cell as imported, or the reason it cannot be, naming the column. */
type ColumnRule<T> = (text: string) => { readonly value: T } | { readonly fault: string };

const skuRule: ColumnRule<string> = (text) => {
  const sku = text.toUpperCase();
  return skuPattern.test(sku) ? { value: sku } : { fault: 'sku must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit' };
};

const nameRule: ColumnRule<string> = (text) => {
  if (text.length === 0) return { fault: 'name must not be empty' };
  return text.length > maxNameLength ? { fault: `name must be at most ${maxNameLength} characters` } : { value: text };
};

const descriptionRule: ColumnRule<string> = (text) =>
  (text.length > maxDescriptionLength ? { fault: `description must be at most ${maxDescriptionLength} characters` } : { value: text });

const priceRule: ColumnRule<number> = (text) => {
  if (/^-\d+$/.test(text)) return { fault: 'price must not be negative' };
  const amount = /^\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
  return Number.isSafeInteger(amount) ? { value: amount } : { fault: 'price must be a whole number of minor units (e.g. cents)' };
};

const currencyRule: ColumnRule<string> = (text) => {
  const currency = text.toUpperCase();
  return isCurrencyCode(currency) ? { value: currency } : { fault: `currency "${echoed(text)}" is not an ISO 4217 code` };
};

const stockRule: ColumnRule<number> = (text) => {
  const stock = /^\d{1,10}$/.test(text) ? Number(text) : Number.NaN;
  return Number.isSafeInteger(stock) && stock <= maxStock ? { value: stock } : { fault: `stock must be a whole number from 0 to ${maxStock}` };
};

/**
 * A data record of the file as a valid row, or its rejection with every fault found in it, each
 * naming its column. `seen` holds the SKUs of the file's earlier valid rows: a repeated SKU is one
 * more fault, and a valid row's SKU is remembered in it.
 */
export function parseImportRow(values: readonly string[], line: number, seen?: SeenSkus): ImportRow | RowError {
  // With the wrong number of columns, no value can be said to belong to a column.
  if (values.length !== importColumns.length) return rowError(line, [{ column: null, reason: `has ${values.length} columns; expected ${importColumns.length}` }]);
  const faults: RowFault[] = [];
  const read = <T>(column: ImportColumn, rule: ColumnRule<T>): T | undefined => {
    const cell = values[importColumns.indexOf(column)] ?? '';
    // A cell that is not text PostgreSQL could store is reported as such; its column's rule is not checked.
    const checked = cell.includes(replacementCharacter) ? { fault: `${column} is not valid UTF-8 text` }
      : cell.includes(nulCharacter) ? { fault: `${column} contains the NUL character (U+0000), which no text may hold` }
        : rule(cell.trim());
    if ('value' in checked) return checked.value;
    faults.push({ column, reason: checked.fault });
    return undefined;
  };
  const sku = read('sku', skuRule);
  const firstLine = sku === undefined ? undefined : seen?.firstLineOf(sku);
  if (firstLine !== undefined && firstLine !== line) faults.push({ column: 'sku', reason: `duplicate SKU ${sku} (first on line ${firstLine})` });
  const name = read('name', nameRule);
  const description = read('description', descriptionRule);
  const amount = read('price', priceRule);
  const currency = read('currency', currencyRule);
  const stock = read('stock', stockRule);
  // A value is missing only where a fault was recorded.
  if (faults.length > 0 || sku === undefined || name === undefined || description === undefined || amount === undefined || currency === undefined || stock === undefined) {
    return rowError(line, faults);
  }
  const row: ImportRow = { line, sku, name, description, price: { amount, currency }, stock };
  seen?.add(row);
  return row;
}

/** Whether a parse result is a rejection. */
export function isRowError(result: ImportRow | RowError): result is RowError {
  return 'reason' in result;
}

/** Remembers the SKUs of one file's valid rows, so a later row with the same SKU is rejected rather than overwriting the first. */
export class SeenSkus {
  readonly #firstLine = new Map<string, number>();

  /** The line of the first valid row with this SKU, if any. */
  firstLineOf(sku: string): number | undefined {
    return this.#firstLine.get(sku);
  }

  /** Remembers a valid row's SKU, unless an earlier line has it already. */
  add(row: ImportRow): void {
    if (!this.#firstLine.has(row.sku)) this.#firstLine.set(row.sku, row.line);
  }
}
