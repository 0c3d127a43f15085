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

export const catalogEvents = {
  productChanged: { type: 'catalog.product-changed', version: 1 },
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
}
