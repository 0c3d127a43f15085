import { ProductNotFoundError } from '../domain/product.errors.ts';
import type { ProductRepository, ProductView } from './ports.ts';

/** Reads one product by id, with its SKU's reported stock. */
export class GetProduct {
  readonly #products: ProductRepository;

  constructor(deps: { products: ProductRepository }) {
    this.#products = deps.products;
  }

  async execute(id: string): Promise<ProductView> {
    const product = await this.#products.findById(id);
    if (product === undefined) throw new ProductNotFoundError(id);
    return product;
  }
}
