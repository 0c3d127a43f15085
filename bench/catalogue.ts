/** SKUs of the benchmark's catalogue: `BENCH-00001`, ... so that they can be recognised in captured SQL. */
export function benchSku(index: number): string {
  return `BENCH-${String(index + 1).padStart(5, '0')}`;
}

/** Finds the benchmark's SKUs in any text (global: use with `matchAll` or `replace`). */
export const benchSkuPattern = /BENCH-\d{5}(?!\d)/g;
