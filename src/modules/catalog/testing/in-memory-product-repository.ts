import type { ProductPage, ProductQuery, ProductRepository, ProductView, ReportedStockStore } from '../application/ports.ts';
import type { ProductChangedV1 } from '../contract.ts';
import { supersedes, type ReportedStock } from '../domain/availability.ts';
import { DuplicateSkuError, ProductModifiedConcurrentlyError } from '../domain/product.errors.ts';
import type { Product } from '../domain/product.ts';

/**
 * ProductRepository and ReportedStockStore in memory, for use-case tests; `published` holds the
 * events a commit would emit, `stock` the reported stock by SKU.
 */
export class InMemoryProductRepository implements ProductRepository, ReportedStockStore {
  readonly products = new Map<string, Product>();
  readonly stock = new Map<string, ReportedStock>();
  readonly published: ProductChangedV1[] = [];

  findById(id: string): Promise<ProductView | undefined> {
    const product = this.products.get(id);
    return Promise.resolve(product === undefined ? undefined : this.#view(product));
  }

  findBySkus(skus: readonly string[]): Promise<ProductView[]> {
    return Promise.resolve([...this.products.values()].filter((product) => skus.includes(product.sku)).map((product) => this.#view(product)));
  }

  list(query: ProductQuery): Promise<ProductPage> {
    const text = query.text?.toLowerCase();
    const after = query.after;
    const matching = [...this.products.values()]
      .filter((product) => text === undefined || [product.sku, product.name, product.description].some((field) => field.toLowerCase().includes(text)))
      .filter((product) => query.minPriceAmount === undefined || product.price.amount >= query.minPriceAmount)
      .filter((product) => query.maxPriceAmount === undefined || product.price.amount <= query.maxPriceAmount)
      .filter((product) => query.currency === undefined || product.price.currency === query.currency)
      .sort(compareCatalogOrder)
      .filter((product) => after === undefined || compareCatalogOrder(product, after) > 0);
    const items = matching.slice(0, query.limit);
    const last = items.at(-1);
    return Promise.resolve({
      items: items.map((product) => this.#view(product)),
      next: matching.length > query.limit && last !== undefined ? { createdAt: last.createdAt, id: last.id } : null,
    });
  }

  add(product: Product, event: ProductChangedV1): Promise<ReportedStock | undefined> {
    if ([...this.products.values()].some((existing) => existing.sku === product.sku)) return Promise.reject(new DuplicateSkuError(product.sku));
    this.products.set(product.id, product);
    this.published.push(event);
    return Promise.resolve(this.stock.get(product.sku));
  }

  update(product: Product, event: ProductChangedV1): Promise<void> {
    const stored = this.products.get(product.id);
    if (stored?.version !== product.version - 1) return Promise.reject(new ProductModifiedConcurrentlyError(product.id));
    this.products.set(product.id, product);
    this.published.push(event);
    return Promise.resolve();
  }

  record(reports: readonly ReportedStock[]): Promise<void> {
    for (const report of reports) {
      if (supersedes(report, this.stock.get(report.sku))) this.stock.set(report.sku, report);
    }
    return Promise.resolve();
  }

  #view(product: Product): ProductView {
    return { product, stock: this.stock.get(product.sku) };
  }
}

function compareCatalogOrder(a: { createdAt: Date; id: string }, b: { createdAt: Date; id: string }): number {
  return a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
