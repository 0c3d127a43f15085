import { ProductNotFoundError } from '../domain/product.errors.ts';
import { changeProduct, type ProductChanges } from '../domain/product.ts';
import type { Product } from '../domain/product.ts';
import type { AdminAct, ProductRepository, ProductView } from './ports.ts';
import { productChangedEvent } from './product-changed-event.ts';

/** Changes a product's name, description or price; a change that changes nothing writes nothing. */
export class UpdateProduct {
  readonly #products: ProductRepository;
  readonly #now: () => Date;

  constructor(deps: { products: ProductRepository; now?: () => Date }) {
    this.#products = deps.products;
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(id: string, changes: ProductChanges): Promise<ProductView> {
    const current = await this.#products.findById(id);
    if (current === undefined) throw new ProductNotFoundError(id);
    const changed = changeProduct(current.product, changes, this.#now());
    if (changed === current.product) return current;
    await this.#products.update(changed, productChangedEvent(changed, 'updated'), changeAct(current.product, changed));
    return { product: changed, stock: current.stock };
  }
}

/** The audit entry of a change: the fields it changed, before and after; a price change is named as one. */
function changeAct(before: Product, after: Product): AdminAct {
  const fields = (['name', 'description', 'price'] as const).filter((field) => JSON.stringify(before[field]) !== JSON.stringify(after[field]));
  const pick = (product: Product) => Object.fromEntries(fields.map((field) => [field, product[field]]));
  return { action: fields.includes('price') ? 'catalog.price-changed' : 'catalog.product-changed', targetId: after.id, before: pick(before), after: pick(after) };
}
