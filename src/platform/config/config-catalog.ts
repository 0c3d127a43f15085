import { z } from 'zod';

/** Reading the catalog and inventory (and orders, for exports): their service addresses in the services shape, and the caches in front of them. */
export const catalogVariables = {
  CATALOG_SERVICE_URL: z.string().regex(/^https?:\/\/[^,\s]+(,https?:\/\/[^,\s]+)*$/, 'must be http(s) URLs separated by commas').optional()
    .describe('Services shape: the catalog service instances (comma-separated) that orders and jobs ask for products and prices.'),
  CATALOG_READ_CACHE_SECONDS: z.coerce.number().int().min(0).max(3600).default(5)
    .describe('Products read by id or SKU are kept in the catalog process\'s memory this long; its own changes are seen at once, another replica\'s within this time. 0: every read queries the database.'),
  LOW_STOCK_THRESHOLD: z.coerce.number().int().min(0).max(1_000_000_000).default(5)
    .describe('Product reads show availability `low` when fewer units than this can be ordered (`out-of-stock` at none, `in-stock` from this many); 0 never shows low.'),
  CATALOG_CACHE_TTL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300)
    .describe('Services shape with REDIS_URL: how long a product snapshot stays in the Redis cache in front of the catalog service (a change announced by the catalog drops it at once).'),
  INVENTORY_SERVICE_URL: z.string().regex(/^https?:\/\/[^,\s]+(,https?:\/\/[^,\s]+)*$/, 'must be http(s) URLs separated by commas').optional()
    .describe('Services shape: the inventory service instances (comma-separated) that imports set stock through.'),
  ORDERS_SERVICE_URL: z.string().regex(/^https?:\/\/[^,\s]+(,https?:\/\/[^,\s]+)*$/, 'must be http(s) URLs separated by commas').optional()
    .describe('Services shape: the orders service instances (comma-separated) that order exports read orders from.'),
};
