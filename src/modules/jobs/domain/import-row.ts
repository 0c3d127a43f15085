import { InvalidImportFileError } from './job.errors.ts';
import type { RowError } from './job.ts';

/** The columns of a catalogue import file, in this order, named in its first line. */
export const importColumns = ['sku', 'name', 'description', 'price', 'currency', 'stock'] as const;

/** One valid row of an import: a product and its on-hand stock. */
export interface ImportRow {
  readonly line: number;
  readonly sku: string;
  readonly name: string;
  readonly description: string;
  readonly price: { readonly amount: number; readonly currency: string };
  readonly stock: number;
}

// The catalogue's and inventory's rules, checked here so a bad row is reported by line, not half applied.
const skuPattern = /^[A-Z0-9][A-Z0-9._-]{0,63}$/;
const maxNameLength = 200;
const maxDescriptionLength = 5000;
const maxStock = 1_000_000_000;
const knownCurrencies = new Set(Intl.supportedValuesOf('currency'));
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
    throw new InvalidImportFileError(`The first line must name the columns ${importColumns.join(',')}; it is ${values.join(',')}`);
  }
}

/** A data record of the file as a valid row, or the reason it is rejected. */
export function parseImportRow(values: readonly string[], line: number): ImportRow | RowError {
  const reject = (reason: string): RowError => ({ line, reason });
  if (values.length !== importColumns.length) return reject(`has ${values.length} columns; expected ${importColumns.length}`);
  if (values.some((value) => value.includes(replacementCharacter))) return reject('is not valid UTF-8 text');
  if (values.some((value) => value.includes(nulCharacter))) return reject('contains the NUL character (U+0000), which no text may hold');
  const [rawSku = '', rawName = '', rawDescription = '', rawPrice = '', rawCurrency = '', rawStock = ''] = values;
  const sku = rawSku.trim().toUpperCase();
  if (!skuPattern.test(sku)) return reject('sku must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit');
  const name = rawName.trim();
  if (name.length === 0) return reject('name must not be empty');
  if (name.length > maxNameLength) return reject(`name must be at most ${maxNameLength} characters`);
  const description = rawDescription.trim();
  if (description.length > maxDescriptionLength) return reject(`description must be at most ${maxDescriptionLength} characters`);
  const price = rawPrice.trim();
  if (/^-\d+$/.test(price)) return reject('price must not be negative');
  const amount = /^\d{1,16}$/.test(price) ? Number(price) : Number.NaN;
  if (!Number.isSafeInteger(amount)) return reject('price must be a whole number of minor units (e.g. cents)');
  const currency = rawCurrency.trim().toUpperCase();
  if (!/^[A-Z]{3}$/.test(currency) || !knownCurrencies.has(currency)) return reject(`currency "${rawCurrency.trim()}" is not an ISO 4217 code`);
  const stockText = rawStock.trim();
  const stock = /^\d{1,10}$/.test(stockText) ? Number(stockText) : Number.NaN;
  if (!Number.isSafeInteger(stock) || stock > maxStock) return reject(`stock must be a whole number from 0 to ${maxStock}`);
  return { line, sku, name, description, price: { amount, currency }, stock };
}

/** Whether a parse result is a rejection. */
export function isRowError(result: ImportRow | RowError): result is RowError {
  return 'reason' in result;
}

/** Remembers the SKUs seen in one file, so a second row with the same SKU is rejected rather than overwriting the first. */
export class SeenSkus {
  readonly #firstLine = new Map<string, number>();

  /** The row itself, or its rejection when its SKU appeared on an earlier line. */
  check(row: ImportRow): ImportRow | RowError {
    const first = this.#firstLine.get(row.sku);
    if (first !== undefined && first !== row.line) return { line: row.line, reason: `duplicate SKU ${row.sku} (first on line ${first})` };
    this.#firstLine.set(row.sku, row.line);
    return row;
  }
}
