import { z } from 'zod';
import { inventoryMessages, type StockChangedV1, type StockLevelsChangedV1 } from '../../../inventory/contract.ts';
import { catalogEvents, maxProductBatchSize, type ProductChangedV1, type ProductsChangedV1 } from '../../contract.ts';

// The catalog's messages with the payload schemas they are checked against, read by the
// registry-level AsyncAPI document (src/apps/asyncapi.ts) as well as by its consumers.

/** `inventory.stock-changed` v1 as the catalog reads it (the publisher's contract; more fields are ignored). */
export const stockChanged: z.ZodType<StockChangedV1> = z.object({
  sku: z.string().min(1).max(64),
  available: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
  stockVersion: z.int().min(1).max(Number.MAX_SAFE_INTEGER),
});

/** `inventory.stock-levels-changed` v1 as the catalog reads it: the same report as `inventory.stock-changed`, for several SKUs. */
export const stockLevelsChanged: z.ZodType<StockLevelsChangedV1> = z.object({ levels: z.array(stockChanged).min(1) });

/**
 * `catalog.product-changed` v1 as the catalog writes it. Its only reader, the catalogue cache of a
 * service that calls a remote catalog, takes just `sku` and checks nothing else, so this schema
 * describes the publisher's side; typed against the contract so a change there fails to compile.
 */
export const productChanged: z.ZodType<ProductChangedV1> = z.object({
  productId: z.string().min(1),
  sku: z.string().min(1),
  name: z.string(),
  description: z.string(),
  price: z.object({ amount: z.int(), currency: z.string().length(3) }),
  change: z.enum(['created', 'updated']),
  productVersion: z.int().min(1),
});

/** `catalog.products-changed` v1 as the catalog writes it (a batch upsert's one announcement). */
export const productsChanged: z.ZodType<ProductsChangedV1> = z.object({
  products: z.array(z.object({
    productId: z.string().min(1), sku: z.string().min(1), change: z.enum(['created', 'updated']), productVersion: z.int().min(1),
  })).min(1).max(maxProductBatchSize),
});

/** What `catalog.reported-stock` reads. */
export const reportedStockSubscription = {
  consumer: 'catalog.reported-stock',
  reads: [
    { message: inventoryMessages.stockChanged, payload: stockChanged },
    { message: inventoryMessages.stockLevelsChanged, payload: stockLevelsChanged },
  ],
} as const;

/**
 * What a remote catalog's cache reads to forget a changed product. It runs in the service that uses
 * the cache (orders, else jobs; `<roles>.catalog-cache`), only in the services shape with Redis.
 */
export const catalogCacheSubscription = {
  consumer: 'catalog-cache',
  reads: [
    { message: catalogEvents.productChanged, payload: productChanged },
    { message: catalogEvents.productsChanged, payload: productsChanged },
  ],
  runsIn: 'in the service that calls a remote catalog with REDIS_URL set (orders, else jobs), as `<its roles>.catalog-cache` in the group `orderstream.<its roles>`',
} as const;

/** The catalog's consumers and the payloads it sends that no consumer checks. */
export const catalogMessageSchemas = {
  consumers: [reportedStockSubscription, catalogCacheSubscription],
  sends: [{ message: catalogEvents.productChanged, payload: productChanged }, { message: catalogEvents.productsChanged, payload: productsChanged }],
};
