import { ExpiringCache } from '../../../../platform/cache/expiring-cache.ts';
import type { ProductPage, ProductQuery, ProductRepository } from '../../application/ports.ts';
import type { ProductChangedV1 } from '../../contract.ts';
import type { Product } from '../../domain/product.ts';

/**
 * Product reads by id and by SKU from this process's memory, in front of the stored catalogue:
 * the catalogue's hottest path (`GET /v1/products/{id}`, and every order's price look-up in the
 * single process) then costs no query. Products are immutable values, so cached ones are shared.
 *
 * Every write through this repository forgets the product once it has committed, so this process
 * reads its own writes at once. A write by another process (another catalog replica) is seen here
 * when the entry expires, after `ttlSeconds` at most (docs/decisions/0010-product-read-cache.md).
 * A read that started before a write may not store what it read, so an old row is never cached
 * after the write that replaced it. Lists and missing products are not cached.
 *
 * Use cases that change what they read take `fresh`: their reads go to the store, so a stale
 * entry can never turn into a lost-update conflict.
 */
export class CachingProductRepository implements ProductRepository {
  readonly #products: ProductRepository;
  readonly #byId: ExpiringCache<string, Product>;
  readonly #bySku: ExpiringCache<string, Product>;
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
  }

  async findById(id: string): Promise<Product | undefined> {
    const cached = this.#byId.get(id);
    if (cached !== undefined) return cached;
    const writesBefore = this.#writes;
    const product = await this.#products.findById(id);
    if (product !== undefined && writesBefore === this.#writes) this.#remember(product);
    return product;
  }

  async findBySkus(skus: readonly string[]): Promise<Product[]> {
    const found: Product[] = [];
    const missing: string[] = [];
    for (const sku of skus) {
      const cached = this.#bySku.get(sku);
      if (cached === undefined) missing.push(sku);
      else found.push(cached);
    }
    if (missing.length === 0) return found;
    const writesBefore = this.#writes;
    const fetched = await this.#products.findBySkus(missing);
    if (writesBefore === this.#writes) for (const product of fetched) this.#remember(product);
    return [...found, ...fetched];
  }

  list(query: ProductQuery): Promise<ProductPage> {
    return this.#products.list(query);
  }

  add(product: Product, event: ProductChangedV1): Promise<void> {
    return this.#write(product, () => this.#products.add(product, event));
  }

  update(product: Product, event: ProductChangedV1): Promise<void> {
    return this.#write(product, () => this.#products.update(product, event));
  }

  /** This repository with reads from the store: for use cases that read to change. */
  get fresh(): ProductRepository {
    return {
      findById: (id) => this.#products.findById(id),
      findBySkus: (skus) => this.#products.findBySkus(skus),
      list: (query) => this.#products.list(query),
      add: (product, event) => this.add(product, event),
      update: (product, event) => this.update(product, event),
    };
  }

  #remember(product: Product): void {
    const expiresAt = this.#now() + this.#ttlMs;
    this.#byId.set(product.id, product, expiresAt);
    this.#bySku.set(product.sku, product, expiresAt);
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
