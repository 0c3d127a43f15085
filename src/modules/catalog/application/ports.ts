import type { ProductChangedV1, ProductsChangedV1, ProductUpsertOutcomeV1 } from '../contract.ts';
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

/** A product a batch upsert wrote, as stored now: created, or changed (one whose values were already those is not written). */
export interface WrittenProduct {
  readonly id: string;
  readonly sku: string;
  readonly version: number;
  readonly change: 'created' | 'updated';
}

/** What a batch upsert commits besides its products: its event (none when it wrote nothing), and the outcomes recorded under its key. */
export interface SettledBatch {
  outcomes: ProductUpsertOutcomeV1[];
  event: ProductsChangedV1 | undefined;
}

/**
 * Writes products in batches (bulk imports). Apart from ProductRepository so that its in-memory
 * stand-ins need not implement it.
 */
export interface ProductBatchRepository {
  /**
   * Upserts `products` (distinct SKUs) in one transaction (the caller's shared one, where it runs in
   * one on this database) with the event and outcomes `settle` makes of what was written, and
   * records `key` with the outcomes. A key recorded before answers its recorded outcomes and writes
   * nothing (`written` is then empty).
   */
  upsertBatch(key: string, products: readonly Product[], settle: (written: readonly WrittenProduct[]) => SettledBatch):
    Promise<{ outcomes: ProductUpsertOutcomeV1[]; written: readonly WrittenProduct[] }>;
}

/**
 * Keeps inventory's stock reports, inside the transaction of the consumer that received them: a
 * report is kept unless one of a later stock version of its SKU already is.
 */
export interface ReportedStockStore {
  record(reports: readonly ReportedStock[]): Promise<void>;
}
