import { ExpiringCache } from '../../../../platform/cache/expiring-cache.ts';
import type { AdminAct, ProductPage, ProductQuery, ProductRepository, ProductView } from '../../application/ports.ts';
import type { ProductChangedV1 } from '../../contract.ts';
import { supersedes, type ReportedStock } from '../../domain/availability.ts';
import type { Product } from '../../domain/product.ts';

/**
 * Product reads by id and by SKU from this process's memory, in front of the stored catalogue:
 * the catalogue's hottest path (`GET /v1/products/{id}`, and every order's price look-up in the
 * single process) then costs no query. Products are read with their SKU's reported stock and kept
 * together; both are immutable values, so cached ones are shared.
 *
 * Every write through this repository forgets the product once it has committed, so this process
 * reads its own writes at once. A write by another process (another catalog replica) is seen here
 * when the entry expires, after `ttlSeconds` at most (docs/decisions/0010-in-process-read-caches.md).
 * A read that started before a write may not store what it read, so an old row is never cached
 * after the write that replaced it. Lists and missing products are not cached.
 *
 * Stock reports this process recorded (`stockReported`) change availability at every order, so they
 * do not forget products, which would send the next price look-up to the database: they are kept
 * beside them for `ttlSeconds`, and a read answers whichever stock is newer, the cached one or the
 * reported one. So a cached product, or one read while the report was being written, never shows
 * older stock than this process has recorded.
 *
 * Use cases that change what they read take `fresh`: their reads go to the store, so a stale
 * entry can never turn into a lost-update conflict.
 */
export class CachingProductRepository implements ProductRepository {
  readonly #products: ProductRepository;
  readonly #byId: ExpiringCache<string, ProductView>;
  readonly #bySku: ExpiringCache<string, ProductView>;
  /** Stock reports recorded by this process, by SKU: newer than what a cached view may hold. */
  readonly #reportedStock: ExpiringCache<string, ReportedStock>;
  readonly #ttlMs: number;
  readonly #now: () => number;
  /** Incremented by every write; a read stores its answer only when no write happened meanwhile. */
  #writes = 0;

  constructor(options: { products: ProductRepository; ttlSeconds: number; maxEntries?: number; now?: () => number }) {
    this.#products = options.products;
    this.#ttlMs = options.ttlSeconds * 1000;
    this.#now = options.now ?? Date.now;
    const maxEntries = options.maxEntries ?? 10_000;
    this.#byId = new ExpiringCache({ maxEntries, now: this.#now });
    this.#bySku = new ExpiringCache({ maxEntries, now: this.#now });
    this.#reportedStock = new ExpiringCache({ maxEntries, now: this.#now });
  }

  async findById(id: string): Promise<ProductView | undefined> {
    const cached = this.#byId.get(id);
    if (cached !== undefined) return this.#withReportedStock(cached);
    const writesBefore = this.#writes;
    const view = await this.#products.findById(id);
    if (view === undefined) return undefined;
    const current = this.#withReportedStock(view);
    if (writesBefore === this.#writes) this.#remember(current);
    return current;
  }

  async findBySkus(skus: readonly string[]): Promise<ProductView[]> {
    const found: ProductView[] = [];
    const missing: string[] = [];
    for (const sku of skus) {
      const cached = this.#bySku.get(sku);
      if (cached === undefined) missing.push(sku);
      else found.push(this.#withReportedStock(cached));
    }
    if (missing.length === 0) return found;
    const writesBefore = this.#writes;
    const fetched = (await this.#products.findBySkus(missing)).map((view) => this.#withReportedStock(view));
    if (writesBefore === this.#writes) for (const view of fetched) this.#remember(view);
    return [...found, ...fetched];
  }

  list(query: ProductQuery): Promise<ProductPage> {
    return this.#products.list(query);
  }

  async add(product: Product, event: ProductChangedV1, act?: AdminAct): Promise<ReportedStock | undefined> {
    let stock: ReportedStock | undefined;
    await this.#write(product, async () => { stock = await this.#products.add(product, event, act); });
    return stock;
  }

  update(product: Product, event: ProductChangedV1, act?: AdminAct): Promise<void> {
    return this.#write(product, () => this.#products.update(product, event, act));
  }

  /** This repository with reads from the store: for use cases that read to change. */
  get fresh(): ProductRepository {
    return {
      findById: (id) => this.#products.findById(id),
      findBySkus: (skus) => this.#products.findBySkus(skus),
      list: (query) => this.#products.list(query),
      add: (product, event, act) => this.add(product, event, act),
      update: (product, event, act) => this.update(product, event, act),
    };
  }

  /**
   * Products written around this repository (a batch upsert, which writes through the store): each is
   * forgotten, and a read that overlapped the write stores nothing.
   */
  forget(products: readonly Pick<Product, 'id' | 'sku'>[]): void {
    this.#writes += 1;
    for (const product of products) {
      this.#byId.delete(product.id);
      this.#bySku.delete(product.sku);
    }
  }

  /** Stock reports this process has recorded (committed): reads answer them from now on, without a query. */
  stockReported(reports: readonly ReportedStock[]): void {
    const expiresAt = this.#now() + this.#ttlMs;
    for (const report of reports) {
      if (supersedes(report, this.#reportedStock.get(report.sku))) this.#reportedStock.set(report.sku, report, expiresAt);
    }
  }

  #withReportedStock(view: ProductView): ProductView {
    const reported = this.#reportedStock.get(view.product.sku);
    return reported !== undefined && supersedes(reported, view.stock) ? { product: view.product, stock: reported } : view;
  }

  #remember(view: ProductView): void {
    const expiresAt = this.#now() + this.#ttlMs;
    this.#byId.set(view.product.id, view, expiresAt);
    this.#bySku.set(view.product.sku, view, expiresAt);
  }

  // Counted when the write starts and again when it has ended: a read overlapping any part of it
  // (it may have read the row before the commit) sees the count change and stores nothing.
  async #write(product: Product, write: () => Promise<void>): Promise<void> {
    this.#writes += 1;
    try {
      await write();
    } finally {
      this.#byId.delete(product.id);
      this.#bySku.delete(product.sku);
      this.#writes += 1;
    }
  }
}
