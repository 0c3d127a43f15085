/** What the catalog module promises other modules: its integration events and its client. */

/** Money as it crosses module boundaries: integer minor units and an ISO 4217 currency. */
export interface MoneyV1 {
  amount: number;
  currency: string;
}

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

/** The catalog's published client; in-process in one process, HTTP between services. */
export interface CatalogClient {
  /** The products with these SKUs; SKUs that do not exist are absent from the result. */
  findProductsBySku(skus: readonly string[]): Promise<ProductSnapshot[]>;
}
