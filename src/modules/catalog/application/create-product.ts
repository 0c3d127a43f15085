import { createProduct, newProductId, type NewProduct } from '../domain/product.ts';
import type { ProductRepository, ProductView } from './ports.ts';
import { productChangedEvent } from './product-changed-event.ts';

/**
 * Adds a product to the catalogue and announces it with `catalog.product-changed`; answers it with
 * the stock inventory may already have reported for its SKU.
 */
export class CreateProduct {
  readonly #products: ProductRepository;
  readonly #newId: () => string;
  readonly #now: () => Date;

  constructor(deps: { products: ProductRepository; newId?: () => string; now?: () => Date }) {
    this.#products = deps.products;
    this.#newId = deps.newId ?? newProductId;
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(input: NewProduct): Promise<ProductView> {
    const product = createProduct(input, this.#newId(), this.#now());
    const stock = await this.#products.add(product, productChangedEvent(product, 'created'), {
      action: 'catalog.product-created', targetId: product.id,
      after: { sku: product.sku, name: product.name, description: product.description, price: product.price },
    });
    return { product, stock };
  }
}
