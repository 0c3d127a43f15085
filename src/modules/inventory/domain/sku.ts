import { InvalidStockError } from './inventory.errors.ts';

// The same rule as the catalogue's, so a SKU means one thing across modules.
const skuPattern = /^[A-Z0-9][A-Z0-9._-]{0,63}$/;

/** Upper-cases and trims a SKU, so `ab-1` and `AB-1` name one stock item; no check of its form. */
export function skuKey(raw: string): string {
  return raw.trim().toUpperCase();
}

/** A well-formed SKU in its normal form, or an InvalidStockError naming `sku`. */
export function normaliseSku(raw: string): string {
  const sku = skuKey(raw);
  if (!skuPattern.test(sku)) {
    throw new InvalidStockError('sku', 'must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit');
  }
  return sku;
}
