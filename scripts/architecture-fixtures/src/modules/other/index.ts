import { listProducts } from './application/list-products.ts';

export function createOtherClient(): { listProducts: typeof listProducts } {
  return { listProducts };
}
