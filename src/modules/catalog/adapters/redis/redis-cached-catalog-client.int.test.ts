import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Transaction } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { createLogger } from '../../../../platform/logging/logger.ts';
import { auditMigrations } from '../../../../platform/audit/index.ts';
import { createEnvelope, messagingMigrations } from '../../../../platform/messaging/index.ts';
import { requireService } from '../../../../platform/testing/services.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import { catalogEvents, catalogMigrations, createCachedCatalogClient, createCatalogModule, type CatalogClient, type CatalogImportClient } from '../../index.ts';

const redis = requireService('Redis', 'REDIS_URL');

describe('the catalogue cache in Redis', { skip: redis.skip }, () => {
  let db: Database;
  let drop: () => Promise<void>;
  let catalog: CatalogClient & CatalogImportClient;
  let lookups: string[][];
  const logger = createLogger({ level: 'silent' });
  const keyPrefix = `test-${randomBytes(4).toString('hex')}:`;

  before(async () => {
    ({ db, drop } = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, auditMigrations, catalogMigrations]));
    const real = createCatalogModule({ db }).client;
    lookups = [];
    // The real catalog, with each lookup it answers written down.
    catalog = {
      findProductsBySku: (skus) => {
        lookups.push([...skus]);
        return real.findProductsBySku(skus);
      },
      upsertProduct: (product) => real.upsertProduct(product),
      upsertProducts: (batch) => real.upsertProducts(batch),
    };
    await catalog.upsertProduct({ sku: 'CACHE-1', name: 'Cup', description: '', price: { amount: 500, currency: 'EUR' } });
    await catalog.upsertProduct({ sku: 'CACHE-2', name: 'Saucer', description: '', price: { amount: 300, currency: 'EUR' } });
  });
  after(async () => {
    await drop();
  });

  test('when products are looked up twice, then the second answer comes from Redis; an unknown SKU is asked for each time', async () => {
    const cached = createCachedCatalogClient({ client: catalog, url: redis.url ?? '', keyPrefix, ttlSeconds: 60, logger });
    try {
      lookups = [];
      const first = await cached.findProductsBySku(['CACHE-1', 'CACHE-2', 'NOPE-1']);
      const second = await cached.findProductsBySku(['cache-1', 'CACHE-2', 'NOPE-1']);
      assert.deepEqual(first.map((product) => product.sku).sort(), ['CACHE-1', 'CACHE-2']);
      assert.deepEqual(second.map((product) => product.sku).sort(), ['CACHE-1', 'CACHE-2']);
      assert.deepEqual(lookups, [['CACHE-1', 'CACHE-2', 'NOPE-1'], ['NOPE-1']]);
    } finally {
      await cached.close();
    }
  });

  test('when the catalog announces a product changed, then the next lookup gets the new price', async () => {
    const cached = createCachedCatalogClient({ client: catalog, url: redis.url ?? '', keyPrefix, ttlSeconds: 60, logger });
    try {
      await cached.findProductsBySku(['CACHE-1']);
      await catalog.upsertProduct({ sku: 'CACHE-1', name: 'Cup', description: '', price: { amount: 650, currency: 'EUR' } });
      assert.equal((await cached.findProductsBySku(['CACHE-1']))[0]?.price.amount, 500, 'stale until the change is announced');
      const changed = createEnvelope({ ...catalogEvents.productChanged, key: 'prod_x', payload: { sku: 'CACHE-1', change: 'updated' } });
      await cached.invalidationConsumer('test.catalog-cache').handle(changed, undefined as unknown as Transaction<object>);
      assert.equal((await cached.findProductsBySku(['CACHE-1']))[0]?.price.amount, 650);
    } finally {
      await cached.close();
    }
  });

  test('when the catalog announces a batch of products changed, then the next lookup of each gets its new price', async () => {
    const cached = createCachedCatalogClient({ client: catalog, url: redis.url ?? '', keyPrefix, ttlSeconds: 60, logger });
    try {
      await cached.findProductsBySku(['CACHE-1', 'CACHE-2']);
      await catalog.upsertProducts({ key: 'cache-batch', products: [
        { sku: 'CACHE-1', name: 'Cup', description: '', price: { amount: 700, currency: 'EUR' } },
        { sku: 'CACHE-2', name: 'Saucer', description: '', price: { amount: 350, currency: 'EUR' } },
      ] });
      assert.equal((await cached.findProductsBySku(['CACHE-2']))[0]?.price.amount, 300, 'stale until the change is announced');
      const changed = createEnvelope({ ...catalogEvents.productsChanged, key: 'batch:cache-batch', payload: { products: [
        { productId: 'prod_1', sku: 'CACHE-1', change: 'updated', productVersion: 3 }, { productId: 'prod_2', sku: 'CACHE-2', change: 'updated', productVersion: 2 },
      ] } });
      await cached.invalidationConsumer('test.catalog-cache').handle(changed, undefined as unknown as Transaction<object>);
      assert.deepEqual((await cached.findProductsBySku(['CACHE-1', 'CACHE-2'])).map((product) => product.price.amount).sort(), [350, 700]);
    } finally {
      await cached.close();
    }
  });

  test('when Redis cannot be reached, then every lookup is answered by the catalog', async () => {
    const cached = createCachedCatalogClient({ client: catalog, url: 'redis://127.0.0.1:1', keyPrefix, ttlSeconds: 60, logger });
    try {
      lookups = [];
      assert.equal((await cached.findProductsBySku(['CACHE-2'])).length, 1);
      assert.equal((await cached.findProductsBySku(['CACHE-2'])).length, 1);
      assert.equal(lookups.length, 2);
    } finally {
      await cached.close();
    }
  });
});
