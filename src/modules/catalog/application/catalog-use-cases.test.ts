import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import { DuplicateSkuError, InvalidProductError, ProductNotFoundError } from '../domain/product.errors.ts';
import { InMemoryProductRepository } from '../testing/in-memory-product-repository.ts';
import { aNewProduct } from '../testing/product-builder.ts';
import { CreateProduct } from './create-product.ts';
import { FindProductsBySku } from './find-products-by-sku.ts';
import { ListProducts } from './list-products.ts';
import type { ProductCursor } from './ports.ts';
import { RecordReportedStock } from './record-reported-stock.ts';
import { UpdateProduct } from './update-product.ts';

let products: InMemoryProductRepository;
let clock: number;
const now = () => new Date(Date.UTC(2026, 0, 1) + (clock += 1000));

beforeEach(() => {
  products = new InMemoryProductRepository();
  clock = 0;
});

describe('CreateProduct', () => {
  test('when a product is created, then it is stored and one created event is published', async () => {
    const { product } = await new CreateProduct({ products, now }).execute(aNewProduct({ sku: 'tea-1' }));
    assert.equal(products.products.get(product.id)?.sku, 'TEA-1');
    assert.deepEqual(products.published.map((event) => [event.productId, event.change, event.productVersion]), [[product.id, 'created', 1]]);
  });

  test('when the SKU is taken (in any letter case), then it fails and publishes nothing more', async () => {
    const create = new CreateProduct({ products, now });
    await create.execute(aNewProduct({ sku: 'TEA-1' }));
    await assert.rejects(create.execute(aNewProduct({ sku: 'tea-1' })), DuplicateSkuError);
    assert.equal(products.products.size, 1);
    assert.equal(products.published.length, 1);
  });

  test('when the input breaks a rule, then nothing is stored', async () => {
    await assert.rejects(new CreateProduct({ products, now }).execute(aNewProduct({ price: { amount: -5, currency: 'EUR' } })), InvalidProductError);
    assert.equal(products.products.size, 0);
    assert.equal(products.published.length, 0);
  });
});

describe('UpdateProduct', () => {
  test('when the price changes, then the stored product and an updated event carry the new price', async () => {
    const { product: created } = await new CreateProduct({ products, now }).execute(aNewProduct());
    const { product: updated } = await new UpdateProduct({ products, now }).execute(created.id, { price: { amount: 2500, currency: 'EUR' } });
    assert.equal(products.products.get(created.id)?.price.amount, 2500);
    assert.equal(updated.version, 2);
    assert.deepEqual(products.published.at(-1)?.price, { amount: 2500, currency: 'EUR' });
    assert.equal(products.published.at(-1)?.change, 'updated');
  });

  test('when nothing actually changes, then no event is published', async () => {
    const { product: created } = await new CreateProduct({ products, now }).execute(aNewProduct({ name: 'Same' }));
    await new UpdateProduct({ products, now }).execute(created.id, { name: 'Same' });
    assert.equal(products.published.length, 1);
  });

  test('when the product does not exist, then it fails with not found', async () => {
    await assert.rejects(new UpdateProduct({ products, now }).execute('prod_missing', { name: 'x' }), ProductNotFoundError);
  });
});

describe('ListProducts', () => {
  test('when pages are followed by their next position, then every product is listed once in creation order', async () => {
    const create = new CreateProduct({ products, now });
    const created = [];
    for (let index = 0; index < 7; index += 1) created.push((await create.execute(aNewProduct())).product);
    const list = new ListProducts({ products });
    const seen: string[] = [];
    let after: ProductCursor | undefined;
    do {
      const page = await list.execute({ limit: 3, ...(after === undefined ? {} : { after }) });
      seen.push(...page.items.map((item) => item.product.id));
      after = page.next ?? undefined;
    } while (after !== undefined);
    assert.deepEqual(seen, created.map((product) => product.id));
  });

  test('when filtering by text and price range, then only matching products are listed', async () => {
    const create = new CreateProduct({ products, now });
    await create.execute(aNewProduct({ name: 'Green tea', price: { amount: 500, currency: 'EUR' } }));
    await create.execute(aNewProduct({ name: 'Black tea', price: { amount: 1500, currency: 'EUR' } }));
    await create.execute(aNewProduct({ name: 'Coffee', price: { amount: 900, currency: 'EUR' } }));
    const page = await new ListProducts({ products }).execute({ text: 'TEA', minPriceAmount: 1000, limit: 10 });
    assert.deepEqual(page.items.map((item) => item.product.name), ['Black tea']);
    assert.equal(page.next, null);
  });
});

describe('FindProductsBySku', () => {
  test('when asked for SKUs in any letter case, then the known ones come back with their prices', async () => {
    await new CreateProduct({ products, now }).execute(aNewProduct({ sku: 'CUP-1', price: { amount: 700, currency: 'EUR' } }));
    const found = await new FindProductsBySku({ products }).execute(['cup-1', 'NOPE']);
    assert.deepEqual(found.map((product) => [product.sku, product.price.amount]), [['CUP-1', 700]]);
  });
});

describe('RecordReportedStock', () => {
  test('when reports of one SKU come out of order and twice, then the one of the highest stock version is kept', async () => {
    const record = new RecordReportedStock();
    await record.execute(products, [{ sku: 'CUP-1', available: 5, stockVersion: 2 }, { sku: 'CUP-1', available: 3, stockVersion: 4 }, { sku: 'CUP-1', available: 4, stockVersion: 3 }]);
    await record.execute(products, [{ sku: 'CUP-1', available: 5, stockVersion: 2 }]);
    await record.execute(products, [{ sku: 'CUP-1', available: 3, stockVersion: 4 }]);
    assert.deepEqual(products.stock.get('CUP-1'), { sku: 'CUP-1', available: 3, stockVersion: 4 });
  });

  test('when a product is created for a SKU whose stock was reported first, then it is answered with that stock, and so are its changes', async () => {
    await new RecordReportedStock().execute(products, [{ sku: 'POT-9', available: 2, stockVersion: 1 }]);
    const created = await new CreateProduct({ products, now }).execute(aNewProduct({ sku: 'pot-9' }));
    assert.deepEqual(created.stock, { sku: 'POT-9', available: 2, stockVersion: 1 });
    const updated = await new UpdateProduct({ products, now }).execute(created.product.id, { name: 'Big pot' });
    assert.deepEqual(updated.stock, { sku: 'POT-9', available: 2, stockVersion: 1 });
  });
});
