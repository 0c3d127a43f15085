import type { Product } from '../domain/product.ts';

export function buildProduct(sku = 'SKU-1'): Product {
  return { sku };
}
