import type { ProductChangedV1 } from '../contract.ts';
import type { Product } from '../domain/product.ts';

/** One page of products in catalogue order, with a cursor to the next page when there is one. */
export interface ProductPage {
  items: Product[];
  next: ProductCursor | null;
}

/** Position after the last product of a page, in (createdAt, id) order. */
export interface ProductCursor {
  createdAt: Date;
  id: string;
}

export interface ProductQuery {
  /** Case-insensitive match against SKU, name and description. */
  text?: string;
  minPriceAmount?: number;
  maxPriceAmount?: number;
  currency?: string;
  after?: ProductCursor;
  limit: number;
}

/**
 * Stores products. Every write takes the integration event it causes and commits both together,
 * so the event exists exactly when the change does.
 */
export interface ProductRepository {
  findById(id: string): Promise<Product | undefined>;
  findBySkus(skus: readonly string[]): Promise<Product[]>;
  list(query: ProductQuery): Promise<ProductPage>;
  /** Throws DuplicateSkuError when the SKU is taken. */
  add(product: Product, event: ProductChangedV1): Promise<void>;
  /** Throws ProductModifiedConcurrentlyError unless the stored version is `product.version - 1`. */
  update(product: Product, event: ProductChangedV1): Promise<void>;
}
