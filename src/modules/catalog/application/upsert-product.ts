import type { ProductUpsertV1 } from '../contract.ts';
import { DuplicateSkuError, ProductModifiedConcurrentlyError } from '../domain/product.errors.ts';
import { CreateProduct } from './create-product.ts';
import type { ProductRepository } from './ports.ts';
import { UpdateProduct } from './update-product.ts';

/** Concurrent writers to one SKU are rare (an import and an admin); a few tries settle them. */
const maxTries = 3;

/** Creates a product by SKU or brings the existing one to the given values, for bulk imports; repeating it changes nothing. */
export class UpsertProduct {
  readonly #products: ProductRepository;
  readonly #create: CreateProduct;
  readonly #update: UpdateProduct;

  constructor(deps: { products: ProductRepository; newId?: () => string; now?: () => Date }) {
    this.#products = deps.products;
    this.#create = new CreateProduct(deps);
    this.#update = new UpdateProduct(deps);
  }

  async execute(input: ProductUpsertV1): Promise<{ created: boolean }> {
    const sku = input.sku.trim().toUpperCase();
    for (let tries = 1; ; tries += 1) {
      const [existing] = (await this.#products.findBySkus([sku])).map((view) => view.product);
      try {
        if (existing === undefined) {
          await this.#create.execute(input);
          return { created: true };
        }
        await this.#update.execute(existing.id, { name: input.name, description: input.description, price: input.price });
        return { created: false };
      } catch (error) {
        // Another writer created or changed the product between our read and write: read it again.
        const raced = error instanceof DuplicateSkuError || error instanceof ProductModifiedConcurrentlyError;
        if (!raced || tries >= maxTries) throw error;
      }
    }
  }
}
