/**
 * The catalog module's door for composition roots: its factory, its migrations, and its contract again.
 * Other modules import only its contract.ts, so they never load this factory, its adapters or their SDKs.
 */
import type { BackgroundTask } from '../../platform/background/background-loop.ts';
import type { Database } from '../../platform/database/database.ts';
import { RetentionSweeper, type BatchLimits, type RetentionMetrics } from '../../platform/database/retention-sweeper.ts';
import type { MigrationSet } from '../../platform/database/migrations.ts';
import type { RouteRegistration } from '../../platform/http/app.ts';
import type { ServiceCaller } from '../../platform/http/service-caller.ts';
import type { Logger } from '../../platform/logging/logger.ts';
import type { MessageConsumer } from '../../platform/messaging/index.ts';
import { tracedUseCase } from '../../platform/observability/tracing.ts';
import { CreateProduct } from './application/create-product.ts';
import { FindProductsBySku } from './application/find-products-by-sku.ts';
import { GetProduct } from './application/get-product.ts';
import { ListProducts } from './application/list-products.ts';
import type { ProductBatchRepository, ProductRepository } from './application/ports.ts';
import { RecordReportedStock } from './application/record-reported-stock.ts';
import { UpdateProduct } from './application/update-product.ts';
import { UpsertProduct } from './application/upsert-product.ts';
import { UpsertProducts } from './application/upsert-products.ts';
import { catalogInternalRoutes } from './adapters/http/catalog-internal-routes.ts';
import { catalogRoutes } from './adapters/http/catalog-routes.ts';
import { HttpCatalogClient } from './adapters/http-client/http-catalog-client.ts';
import { CachingProductRepository } from './adapters/memory/caching-product-repository.ts';
import { stockChangedConsumer } from './adapters/messaging/stock-changed-consumer.ts';
import { RedisCachedCatalogClient } from './adapters/redis/redis-cached-catalog-client.ts';
import { oldAppliedProductBatches } from './adapters/postgres/applied-batch-retention.ts';
import { PgProductRepository } from './adapters/postgres/pg-product-repository.ts';
import type { CatalogClient, CatalogImportClient } from './contract.ts';

export * from './contract.ts';
export { catalogMessageSchemas } from './adapters/messaging/catalog-message-schemas.ts';

export const catalogMigrations: MigrationSet = {
  module: 'catalog',
  schema: 'catalog',
  directory: new URL('./adapters/postgres/migrations/', import.meta.url),
};

export interface CatalogModule {
  routes: RouteRegistration;
  /** `inventory.stock-changed`, kept as the availability of product reads. */
  consumers: MessageConsumer[];
  /** In-process adapter of the catalog's clients (reads and bulk writes), for modules in the same process. */
  client: CatalogClient & CatalogImportClient;
  /** With `retention`, the sweeper of old applied batches. */
  background: BackgroundTask[];
}

/** Stock under which a product shows `low` when no LOW_STOCK_THRESHOLD is given. */
const defaultLowStockThreshold = 5;

/**
 * Wires the catalog's use cases to PostgreSQL (or to the repository a test passes). With
 * `readCacheSeconds`, product reads by id and SKU are answered from this process's memory (its own
 * writes and the stock reports it records seen at once, other processes' after that many seconds at
 * most). Products show `low` availability under `lowStockThreshold` units (5 by default).
 */
export function createCatalogModule(deps: ({ db: Database } | { products: ProductRepository & ProductBatchRepository }) & {
  readCacheSeconds?: number;
  lowStockThreshold?: number;
  /** Accept the development identity headers when telling admins (who see stock quantities) apart. */
  devIdentityHeaders?: boolean;
  /** `catalog.retention` (with `db`): deletes applied batches of products older than `appliedBatchSeconds`. */
  retention?: { logger: Logger; appliedBatchSeconds: number; intervalMs: number; limits: BatchLimits; metrics?: RetentionMetrics };
}): CatalogModule {
  const stored = 'products' in deps ? deps.products : new PgProductRepository(deps.db);
  const cache = deps.readCacheSeconds === undefined || deps.readCacheSeconds <= 0
    ? undefined
    : new CachingProductRepository({ products: stored, ttlSeconds: deps.readCacheSeconds });
  // Reads that only answer come from the cache; use cases that read to change read the store.
  const products = cache ?? stored;
  const writers = cache?.fresh ?? stored;
  const findProductsBySku = tracedUseCase('catalog.find-products-by-sku', new FindProductsBySku({ products }));
  const upsertProduct = tracedUseCase('catalog.upsert-product', new UpsertProduct({ products: writers }));
  // Batches write through the store; the read cache forgets what they wrote.
  const upsertProducts = tracedUseCase('catalog.upsert-products', new UpsertProducts({
    products: stored, written: (written) => { cache?.forget(written); },
  }));
  const client: CatalogClient & CatalogImportClient = {
    findProductsBySku: (skus) => findProductsBySku.execute(skus),
    upsertProduct: (product) => upsertProduct.execute(product),
    upsertProducts: (batch) => upsertProducts.execute(batch),
  };
  const publicRoutes = catalogRoutes({
    createProduct: tracedUseCase('catalog.create-product', new CreateProduct({ products: writers })),
    updateProduct: tracedUseCase('catalog.update-product', new UpdateProduct({ products: writers })),
    getProduct: tracedUseCase('catalog.get-product', new GetProduct({ products })),
    listProducts: tracedUseCase('catalog.list-products', new ListProducts({ products })),
  }, { lowStockThreshold: deps.lowStockThreshold ?? defaultLowStockThreshold, devIdentityHeaders: deps.devIdentityHeaders ?? false });
  const internalRoutes = catalogInternalRoutes(client);
  return {
    routes: (app) => {
      publicRoutes(app);
      internalRoutes(app);
    },
    // Reports are kept in the catalog's own tables, so a module wired to another repository (a test's) has no consumer.
    consumers: 'db' in deps
      ? [stockChangedConsumer({
        recordReportedStock: tracedUseCase('catalog.record-reported-stock', new RecordReportedStock()),
        recorded: (reports) => { cache?.stockReported(reports); },
      })]
      : [],
    client,
    background: 'db' in deps && deps.retention !== undefined
      ? [new RetentionSweeper({
        name: 'catalog.retention', db: deps.db, ...deps.retention, rules: [oldAppliedProductBatches(deps.retention.appliedBatchSeconds)],
      })]
      : [],
  };
}

export type { RedisCachedCatalogClient };

/** A Redis read-through cache of product snapshots in front of `client`, with the consumer that invalidates it. */
export function createCachedCatalogClient(options: {
  client: CatalogClient & CatalogImportClient; url: string; keyPrefix: string; ttlSeconds: number; logger: Logger;
}): RedisCachedCatalogClient {
  return new RedisCachedCatalogClient(options);
}

/** The catalog's clients over HTTP, for modules in another service (services shape). */
export function createCatalogHttpClient(catalog: ServiceCaller): CatalogClient & CatalogImportClient {
  return new HttpCatalogClient(catalog);
}
