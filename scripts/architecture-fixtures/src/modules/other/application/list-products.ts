import type { Product } from '../domain/product.ts';

export function listProducts(): Product[] {
  return [];
}
