import { ProductNotFoundError } from '../domain/product.errors.ts';
import type { Product } from '../domain/product.ts';
import type { ProductRepository } from './ports.ts';

/** Reads one product by id. */
export class GetProduct {
  readonly #products: ProductRepository;

  constructor(deps: { products: ProductRepository }) {
    this.#products = deps.products;
  }

  async execute(id: string): Promise<Product> {
    const product = await this.#products.findById(id);
    if (product === undefined) throw new ProductNotFoundError(id);
    return product;
  }
}
