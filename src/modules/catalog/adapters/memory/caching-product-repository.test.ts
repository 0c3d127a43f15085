import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createProduct, changeProduct, type Product } from '../../domain/product.ts';
import { productChangedEvent } from '../../application/product-changed-event.ts';
import { InMemoryProductRepository } from '../../testing/in-memory-product-repository.ts';
import { aNewProduct } from '../../testing/product-builder.ts';
import { CachingProductRepository } from './caching-product-repository.ts';

/** The stored catalogue, counting the reads that reach it. */
class CountingStore extends InMemoryProductRepository {
  reads = 0;
  override findById(id: string): Promise<Product | undefined> {
    this.reads += 1;
    return super.findById(id);
  }
  override findBySkus(skus: readonly string[]): Promise<Product[]> {
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

  assert.equal(await cache.findById(product.id), product);
  assert.equal(await cache.findById(product.id), product);
  assert.deepEqual(await cache.findBySkus([product.sku]), [product]);
  assert.deepEqual(await cache.findBySkus([product.sku]), [product]);

  assert.equal(store.reads, 1, 'the read by id also filled the SKU entry');
});

test('when a product changes through the cache, then the next read answers the change', async () => {
  const { cache, product } = setUp();
  await cache.findById(product.id);
  const changed = renamed(product, 'Renamed');

  await cache.update(changed, productChangedEvent(changed, 'updated'));

  assert.equal((await cache.findById(product.id))?.name, 'Renamed');
  assert.equal((await cache.findBySkus([product.sku]))[0]?.name, 'Renamed');
});

test('when another process changes the product, then the cached one is answered until the entry expires', async () => {
  const { store, cache, product, advance } = setUp(5);
  await cache.findById(product.id);
  store.products.set(product.id, renamed(product, 'Changed elsewhere'));

  advance(4_999);
  assert.equal((await cache.findById(product.id))?.name, product.name);
  advance(1);
  assert.equal((await cache.findById(product.id))?.name, 'Changed elsewhere');
});

test('when a read overlaps a write, then what it read is answered but not kept', async () => {
  const { store, product } = setUp();
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  const slowStore = Object.create(store) as CountingStore;
  slowStore.findById = async (id) => {
    const row = store.products.get(id);
    await gate; // the row was read before the write committed
    return row;
  };
  const overlapped = new CachingProductRepository({ products: slowStore, ttlSeconds: 60 });
  const reading = overlapped.findById(product.id);
  const changed = renamed(product, 'Written meanwhile');
  await overlapped.update(changed, productChangedEvent(changed, 'updated'));
  release();

  assert.equal((await reading)?.name, product.name);
  assert.equal((await overlapped.findById(product.id))?.name, 'Written meanwhile');
});

test('when a use case reads to change, then its reads go to the store, and missing products are never cached', async () => {
  const { store, cache, product } = setUp();
  await cache.findById(product.id);
  const readsBefore = store.reads;

  await cache.fresh.findById(product.id);
  assert.equal(store.reads, readsBefore + 1);

  assert.equal(await cache.findById('no-such-product'), undefined);
  assert.equal(await cache.findById('no-such-product'), undefined);
  assert.deepEqual(await cache.findBySkus(['NO-SUCH-SKU', product.sku]), [product]);
  assert.equal(store.reads, readsBefore + 4);
});
