import type { ProductUpsertBatchV1, ProductUpsertOutcomeV1 } from '../contract.ts';
import { InvalidProductError } from '../domain/product.errors.ts';
import { createProduct, newProductId, type Product } from '../domain/product.ts';
import type { ProductBatchRepository, WrittenProduct } from './ports.ts';

/**
 * Creates or changes a batch of products by SKU at once, for bulk imports: every product is checked
 * against the catalogue's rules first (one that breaks one is rejected alone, with the rule), then
 * the rest are written in one statement and announced in one `catalog.products-changed`. Repeating a batch
 * (its key) changes nothing and answers what its first application did.
 */
export class UpsertProducts {
  readonly #products: ProductBatchRepository;
  readonly #newId: () => string;
  readonly #now: () => Date;
  readonly #written: (products: readonly WrittenProduct[]) => void;

  constructor(deps: { products: ProductBatchRepository; newId?: () => string; now?: () => Date; written?: (products: readonly WrittenProduct[]) => void }) {
    this.#products = deps.products;
    this.#newId = deps.newId ?? newProductId;
    this.#now = deps.now ?? (() => new Date());
    this.#written = deps.written ?? (() => undefined);
  }

  async execute(batch: ProductUpsertBatchV1): Promise<ProductUpsertOutcomeV1[]> {
    const now = this.#now();
    const checked = new Map<number, Product>();
    const rejected = new Map<number, string>();
    const firstOf = new Map<string, number>();
    batch.products.forEach((input, index) => {
      try {
        const product = createProduct(input, this.#newId(), now);
        const first = firstOf.get(product.sku);
        if (first === undefined) {
          firstOf.set(product.sku, index);
          checked.set(index, product);
        } else {
          rejected.set(index, `sku ${product.sku} is repeated in the batch (first at position ${first + 1})`);
        }
      } catch (error) {
        if (!(error instanceof InvalidProductError)) throw error;
        rejected.set(index, error.message);
      }
    });
    const { outcomes, written } = await this.#products.upsertBatch(batch.key, [...checked.values()], (writes) => {
      const changes = new Map(writes.map((write) => [write.sku, write.change]));
      return {
        event: writes.length === 0 ? undefined : {
          products: writes.map(({ id, sku, change, version }) => ({ productId: id, sku, change, productVersion: version })),
        },
        outcomes: batch.products.map((_input, index): ProductUpsertOutcomeV1 => {
          const reason = rejected.get(index);
          if (reason !== undefined) return { outcome: 'rejected', reason };
          // A product not written already had these values: an update that changed nothing.
          return { outcome: changes.get(checked.get(index)?.sku ?? '') === 'created' ? 'created' : 'updated' };
        }),
      };
    });
    if (outcomes.length !== batch.products.length) throw new BatchKeyReusedError(batch.key);
    if (written.length > 0) this.#written(written);
    return outcomes;
  }
}

/** A batch's key was applied before to a batch of another length: the caller named two batches alike. */
export class BatchKeyReusedError extends Error {
  constructor(key: string) {
    super(`batch ${key} was applied before with another number of products`);
    this.name = 'BatchKeyReusedError';
  }
}
