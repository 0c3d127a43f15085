import { Redis } from 'ioredis';
import type { Logger } from '../../../../platform/logging/logger.ts';
import type { Envelope, MessageConsumer } from '../../../../platform/messaging/index.ts';
import type {
  CatalogClient, CatalogImportClient, ProductSnapshot, ProductUpsertBatchV1, ProductUpsertOutcomeV1, ProductUpsertV1,
} from '../../contract.ts';
import { catalogCacheSubscription } from '../messaging/catalog-message-schemas.ts';

/**
 * A read-through cache of product snapshots in Redis, in front of the catalog's client where the
 * catalog is another service (the orders service asks it for every order). A product is cached
 * by SKU for `ttlSeconds` and forgotten as soon as `catalog.product-changed` says it changed (the
 * consumer below); the TTL is the backstop. Redis trouble never fails a lookup: the cache is
 * skipped with a warning and the catalog answers.
 */
export class RedisCachedCatalogClient implements CatalogClient, CatalogImportClient {
  readonly #client: CatalogClient & CatalogImportClient;
  readonly #redis: Redis;
  readonly #keyPrefix: string;
  readonly #ttlSeconds: number;
  readonly #logger: Logger;
  #lastWarningAt = Number.NEGATIVE_INFINITY;

  constructor(options: { client: CatalogClient & CatalogImportClient; url: string; keyPrefix: string; ttlSeconds: number; logger: Logger; timeoutMs?: number }) {
    this.#client = options.client;
    this.#keyPrefix = `${options.keyPrefix}catalog:sku:`;
    this.#ttlSeconds = options.ttlSeconds;
    this.#logger = options.logger;
    // Fail fast rather than queue lookups behind a reconnecting client.
    this.#redis = new Redis(options.url, { maxRetriesPerRequest: 0, commandTimeout: options.timeoutMs ?? 250 });
    this.#redis.on('error', (error: Error) => { this.#warn(error); });
  }

  async findProductsBySku(skus: readonly string[]): Promise<ProductSnapshot[]> {
    const keys = skus.map((sku) => this.#key(sku));
    const cached = await this.#redis.mget(keys).catch((error: unknown) => {
      this.#warn(error);
      return keys.map(() => null);
    });
    const found: ProductSnapshot[] = [];
    const missing: string[] = [];
    skus.forEach((sku, index) => {
      const hit = cached[index];
      if (hit === null || hit === undefined) missing.push(sku);
      else found.push(JSON.parse(hit) as ProductSnapshot);
    });
    if (missing.length === 0) return found;
    const fetched = await this.#client.findProductsBySku(missing);
    if (fetched.length > 0) {
      const writes = this.#redis.multi();
      for (const product of fetched) writes.set(this.#key(product.sku), JSON.stringify(product), 'EX', this.#ttlSeconds);
      await writes.exec().catch((error: unknown) => { this.#warn(error); });
    }
    return [...found, ...fetched];
  }

  async upsertProduct(product: ProductUpsertV1): Promise<{ created: boolean }> {
    const result = await this.#client.upsertProduct(product);
    await this.forget(product.sku);
    return result;
  }

  async upsertProducts(batch: ProductUpsertBatchV1): Promise<ProductUpsertOutcomeV1[]> {
    const outcomes = await this.#client.upsertProducts(batch);
    const skus = batch.products.map((product) => this.#key(product.sku.trim().toUpperCase()));
    if (skus.length > 0) await this.#redis.del(...skus).catch((error: unknown) => { this.#warn(error); });
    return outcomes;
  }

  /** Drops one SKU's cached snapshot (its product changed). */
  async forget(sku: string): Promise<void> {
    await this.#redis.del(this.#key(sku)).catch((error: unknown) => { this.#warn(error); });
  }

  /**
   * Forgets a product when the catalog announces a change. Registered in the messaging of the
   * service that uses the cache; a repeat or a late delivery only costs one cache miss.
   */
  invalidationConsumer(name: string): MessageConsumer {
    return {
      name,
      types: catalogCacheSubscription.reads.map(({ message }) => message.type),
      handle: async (envelope: Envelope) => {
        // `catalog.product-changed` names one SKU; `catalog.products-changed`, a batch's.
        const payload = envelope.payload as { sku?: unknown; products?: { sku?: unknown }[] };
        const skus = [payload.sku, ...(Array.isArray(payload.products) ? payload.products.map((product) => product.sku) : [])]
          .filter((sku): sku is string => typeof sku === 'string');
        if (skus.length > 0) await this.#redis.del(...skus.map((sku) => this.#key(sku))).catch((error: unknown) => { this.#warn(error); });
      },
    };
  }

  async close(): Promise<void> {
    await this.#redis.quit().catch(() => { this.#redis.disconnect(); });
  }

  #key(sku: string): string {
    return `${this.#keyPrefix}${sku.trim().toUpperCase()}`;
  }

  #warn(error: unknown): void {
    const now = performance.now();
    if (now - this.#lastWarningAt < 10_000) return;
    this.#lastWarningAt = now;
    this.#logger.warn({ err: error }, 'catalogue cache unavailable: asking the catalog directly');
  }
}
