import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createProduct, changeProduct, type Product } from '../../domain/product.ts';
import type { ProductView } from '../../application/ports.ts';
import { productChangedEvent } from '../../application/product-changed-event.ts';
import { InMemoryProductRepository } from '../../testing/in-memory-product-repository.ts';
import { aNewProduct } from '../../testing/product-builder.ts';
import { CachingProductRepository } from './caching-product-repository.ts';

/** The stored catalogue, counting the reads that reach it. */
class CountingStore extends InMemoryProductRepository {
  reads = 0;
  override findById(id: string): Promise<ProductView | undefined> {
    this.reads += 1;
    return super.findById(id);
  }
  override findBySkus(skus: readonly string[]): Promise<ProductView[]> {
    this.reads += 1;
    return super.findBySkus(skus);
  }
}

function setUp(ttlSeconds = 5) {
  let now = 1_000_000;
  const store = new CountingStore();
  const cache = new CachingProductRepository({ products: store, ttlSeconds, now: () => now });
  const product = createProduct(aNewProduct(), 'product-1', new Date(now));
  store.products.set(product.id, product);
  return { store, cache, product, advance: (ms: number) => { now += ms; } };
}

function renamed(product: Product, name: string): Product {
  return changeProduct(product, { name }, new Date(product.updatedAt.getTime() + 1000));
}

test('when a product is read again by id or SKU, then the stored catalogue is asked once for each', async () => {
  const { store, cache, product } = setUp();

  assert.equal((await cache.findById(product.id))?.product, product);
  assert.equal((await cache.findById(product.id))?.product, product);
  assert.deepEqual(await cache.findBySkus([product.sku]), [{ product, stock: undefined }]);
  assert.deepEqual(await cache.findBySkus([product.sku]), [{ product, stock: undefined }]);

  assert.equal(store.reads, 1, 'the read by id also filled the SKU entry');
});

test('when a product changes through the cache, then the next read answers the change', async () => {
  const { cache, product } = setUp();
  await cache.findById(product.id);
  const changed = renamed(product, 'Renamed');

  await cache.update(changed, productChangedEvent(changed, 'updated'));

  assert.equal((await cache.findById(product.id))?.product.name, 'Renamed');
  assert.equal((await cache.findBySkus([product.sku]))[0]?.product.name, 'Renamed');
});

test('when another process changes the product, then the cached one is answered until the entry expires', async () => {
  const { store, cache, product, advance } = setUp(5);
  await cache.findById(product.id);
  store.products.set(product.id, renamed(product, 'Changed elsewhere'));

  advance(4_999);
  assert.equal((await cache.findById(product.id))?.product.name, product.name);
  advance(1);
  assert.equal((await cache.findById(product.id))?.product.name, 'Changed elsewhere');
});

test('when a read overlaps a write, then what it read is answered but not kept', async () => {
  const { store, product } = setUp();
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  const slowStore = Object.create(store) as CountingStore;
  slowStore.findById = async (id) => {
    const row = store.products.get(id);
    await gate; // the row was read before the write committed
    return row === undefined ? undefined : { product: row, stock: undefined };
  };
  const overlapped = new CachingProductRepository({ products: slowStore, ttlSeconds: 60 });
  const reading = overlapped.findById(product.id);
  const changed = renamed(product, 'Written meanwhile');
  await overlapped.update(changed, productChangedEvent(changed, 'updated'));
  release();

  assert.equal((await reading)?.product.name, product.name);
  assert.equal((await overlapped.findById(product.id))?.product.name, 'Written meanwhile');
});

test('when a use case reads to change, then its reads go to the store, and missing products are never cached', async () => {
  const { store, cache, product } = setUp();
  await cache.findById(product.id);
  const readsBefore = store.reads;

  await cache.fresh.findById(product.id);
  assert.equal(store.reads, readsBefore + 1);

  assert.equal(await cache.findById('no-such-product'), undefined);
  assert.equal(await cache.findById('no-such-product'), undefined);
  assert.deepEqual((await cache.findBySkus(['NO-SUCH-SKU', product.sku])).map((view) => view.product), [product]);
  assert.equal(store.reads, readsBefore + 4);
});

test('when this process records a stock report, then cached reads answer it at once without asking the store', async () => {
  const { store, cache, product } = setUp();
  await store.record([{ sku: product.sku, available: 9, stockVersion: 2 }]);
  await cache.findById(product.id);
  const readsBefore = store.reads;
  await store.record([{ sku: product.sku, available: 3, stockVersion: 3 }]);

  cache.stockReported([{ sku: product.sku, available: 3, stockVersion: 3 }]);

  assert.deepEqual((await cache.findById(product.id))?.stock, { sku: product.sku, available: 3, stockVersion: 3 });
  assert.deepEqual((await cache.findBySkus([product.sku]))[0]?.stock, { sku: product.sku, available: 3, stockVersion: 3 });
  assert.equal(store.reads, readsBefore, 'the product stayed cached');
});

test('when a recorded report is older than the stock a read found, then the newer stock is answered', async () => {
  const { store, cache, product } = setUp();
  await store.record([{ sku: product.sku, available: 8, stockVersion: 7 }]);

  cache.stockReported([{ sku: product.sku, available: 1, stockVersion: 6 }]);

  assert.deepEqual((await cache.findById(product.id))?.stock, { sku: product.sku, available: 8, stockVersion: 7 });
  cache.stockReported([{ sku: product.sku, available: 5, stockVersion: 8 }, { sku: product.sku, available: 6, stockVersion: 7 }]);
  assert.deepEqual((await cache.findById(product.id))?.stock, { sku: product.sku, available: 5, stockVersion: 8 });
});

test('when a read that started before a stock report ends after it, then what it stores answers the report', async () => {
  const { store, product } = setUp();
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  const slowStore = Object.create(store) as CountingStore;
  slowStore.findById = async (id) => {
    const row = store.products.get(id);
    await gate; // read before the report committed: no stock yet
    return row === undefined ? undefined : { product: row, stock: undefined };
  };
  const cache = new CachingProductRepository({ products: slowStore, ttlSeconds: 60 });
  const reading = cache.findById(product.id);
  cache.stockReported([{ sku: product.sku, available: 4, stockVersion: 2 }]);
  release();

  assert.deepEqual((await reading)?.stock, { sku: product.sku, available: 4, stockVersion: 2 });
  assert.deepEqual((await cache.findBySkus([product.sku]))[0]?.stock, { sku: product.sku, available: 4, stockVersion: 2 });
});
