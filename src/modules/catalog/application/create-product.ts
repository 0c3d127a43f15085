import { createProduct, type NewProduct, type Product } from '../domain/product.ts';
import type { ProductRepository } from './ports.ts';
import { productChangedEvent } from './product-changed-event.ts';

/** Adds a product to the catalogue and announces it with `catalog.product-changed`. */
export class CreateProduct {
  readonly #products: ProductRepository;
  readonly #newId: () => string;
  readonly #now: () => Date;

  constructor(deps: { products: ProductRepository; newId?: () => string; now?: () => Date }) {
    this.#products = deps.products;
    this.#newId = deps.newId ?? (() => `prod_${crypto.randomUUID()}`);
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(input: NewProduct): Promise<Product> {
    const product = createProduct(input, this.#newId(), this.#now());
    await this.#products.add(product, productChangedEvent(product, 'created'));
    return product;
  }
}
