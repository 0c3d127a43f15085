/** What the catalog module promises other modules: its integration events and its client. */

import type { Money } from '../../kernel/money.ts';

/** Money as it crosses module boundaries, `{ amount, currency }`: the shared Money, whose shape is frozen. */
export type MoneyV1 = Money;

/** `catalog.product-changed` v1: a product was created or changed. Keyed by product id. */
export interface ProductChangedV1 {
  productId: string;
  sku: string;
  name: string;
  description: string;
  price: MoneyV1;
  change: 'created' | 'updated';
  productVersion: number;
}

/**
 * `catalog.products-changed` v1: a batch upsert (a chunk of a bulk import) created or changed these
 * products, announced once for the batch instead of one `catalog.product-changed` each; keyed by the
 * batch's key. It names the products and their versions; a reader wanting their values reads the
 * catalog. A product the batch left as it was is not in it.
 */
export interface ProductsChangedV1 {
  products: { productId: string; sku: string; change: 'created' | 'updated'; productVersion: number }[];
}

export const catalogEvents = {
  productChanged: { type: 'catalog.product-changed', version: 1 },
  productsChanged: { type: 'catalog.products-changed', version: 1 },
} as const;

/** A product as other modules see it, e.g. to snapshot its price into an order. */
export interface ProductSnapshot {
  id: string;
  sku: string;
  name: string;
  price: MoneyV1;
}

/** A product as a bulk import states it: the whole product, keyed by SKU. */
export interface ProductUpsertV1 {
  sku: string;
  name: string;
  description: string;
  price: MoneyV1;
}

/** Most products one batch upsert takes. */
export const maxProductBatchSize = 5000;

/**
 * Products a bulk writer upserts at once (at most `maxProductBatchSize`). `key` names the batch for
 * good (an import names it by its job and the chunk's rows): a batch repeated with a key already
 * applied changes nothing and answers the outcomes of its first application.
 */
export interface ProductUpsertBatchV1 {
  key: string;
  products: ProductUpsertV1[];
}

/**
 * What became of one product of a batch, in the batch's order: created, updated (also when its
 * values were already these, which writes nothing), or rejected for a catalogue rule it breaks.
 */
export type ProductUpsertOutcomeV1 = { outcome: 'created' } | { outcome: 'updated' } | { outcome: 'rejected'; reason: string };

/** The catalog's published client; in-process in one process, HTTP between services. */
export interface CatalogClient {
  /** The products with these SKUs; SKUs that do not exist are absent from the result. */
  findProductsBySku(skus: readonly string[]): Promise<ProductSnapshot[]>;
}

/**
 * The catalog's client for bulk writers (the jobs module's imports). Apart from CatalogClient so that
 * readers, and their test stubs, need not implement writes.
 */
export interface CatalogImportClient {
  /**
   * Creates the product with this SKU, or changes the existing one to these values (a repeat changes
   * nothing). Rejects with an error named `InvalidProductError` when a value breaks a catalogue rule.
   */
  upsertProduct(product: ProductUpsertV1): Promise<{ created: boolean }>;
  /**
   * Upserts a batch by SKU in one transaction, announcing the products it creates or changes in one
   * `catalog.products-changed`; answers one outcome per
   * product, in order. Idempotent by the batch's key. A product breaking a rule is rejected alone.
   */
  upsertProducts(batch: ProductUpsertBatchV1): Promise<ProductUpsertOutcomeV1[]>;
}
