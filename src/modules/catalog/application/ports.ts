import type { ProductChangedV1 } from '../contract.ts';
import type { ReportedStock } from '../domain/availability.ts';
import type { Product } from '../domain/product.ts';

/**
 * A product as the catalogue shows it: with what inventory last reported of its SKU's stock
 * (undefined when it reported nothing), read together in one go.
 */
export interface ProductView {
  readonly product: Product;
  readonly stock: ReportedStock | undefined;
}

/** One page of products in catalogue order, with a cursor to the next page when there is one. */
export interface ProductPage {
  items: ProductView[];
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
 * An administrative act on the catalogue, as the audit trail keeps it: committed with the write
 * that performs it, so an act that fails leaves no entry (src/platform/audit).
 */
export interface AdminAct {
  action: 'catalog.product-created' | 'catalog.product-changed' | 'catalog.price-changed';
  targetId: string;
  before?: unknown;
  after?: unknown;
}

/**
 * Stores products, and reads them with their SKU's reported stock. Every write takes the integration
 * event it causes and commits both together, so the event exists exactly when the change does.
 */
export interface ProductRepository {
  findById(id: string): Promise<ProductView | undefined>;
  findBySkus(skus: readonly string[]): Promise<ProductView[]>;
  list(query: ProductQuery): Promise<ProductPage>;
  /**
   * Throws DuplicateSkuError when the SKU is taken. Answers the stock inventory already reported for
   * the SKU (stock may be set before its product exists).
   */
  add(product: Product, event: ProductChangedV1, act?: AdminAct): Promise<ReportedStock | undefined>;
  /** Throws ProductModifiedConcurrentlyError unless the stored version is `product.version - 1`. */
  update(product: Product, event: ProductChangedV1, act?: AdminAct): Promise<void>;
}

/**
 * Keeps inventory's stock reports, inside the transaction of the consumer that received them: a
 * report is kept unless one of a later stock version of its SKU already is.
 */
export interface ReportedStockStore {
  record(reports: readonly ReportedStock[]): Promise<void>;
}
