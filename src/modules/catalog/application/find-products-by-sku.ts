import type { ProductSnapshot } from '../contract.ts';
import type { ProductRepository } from './ports.ts';

/** Serves other modules' price look-ups through the catalog client. */
export class FindProductsBySku {
  readonly #products: ProductRepository;

  constructor(deps: { products: ProductRepository }) {
    this.#products = deps.products;
  }

  async execute(skus: readonly string[]): Promise<ProductSnapshot[]> {
    const normalised = [...new Set(skus.map((sku) => sku.trim().toUpperCase()))];
    const found = await this.#products.findBySkus(normalised);
    return found.map(({ product }) => ({
      id: product.id, sku: product.sku, name: product.name,
      price: { amount: product.price.amount, currency: product.price.currency },
    }));
  }
}
