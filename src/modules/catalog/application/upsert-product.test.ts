import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import { InvalidProductError } from '../domain/product.errors.ts';
import { InMemoryProductRepository } from '../testing/in-memory-product-repository.ts';
import { UpsertProduct } from './upsert-product.ts';

let products: InMemoryProductRepository;
let upsert: UpsertProduct;

beforeEach(() => {
  products = new InMemoryProductRepository();
  upsert = new UpsertProduct({ products });
});

const teapot = { sku: 'pot-1', name: 'Teapot', description: 'Holds tea', price: { amount: 2500, currency: 'EUR' } };

describe('UpsertProduct', () => {
  test('when the SKU is new, then the product is created and one created event is published', async () => {
    assert.deepEqual(await upsert.execute(teapot), { created: true });
    assert.deepEqual([...products.products.values()].map((product) => [product.sku, product.price.amount]), [['POT-1', 2500]]);
    assert.deepEqual(products.published.map((event) => event.change), ['created']);
  });

  test('when the SKU exists in another letter case, then that product is changed, not duplicated', async () => {
    await upsert.execute(teapot);
    assert.deepEqual(await upsert.execute({ ...teapot, sku: 'POT-1', price: { amount: 2700, currency: 'EUR' } }), { created: false });
    assert.equal(products.products.size, 1);
    assert.equal([...products.products.values()][0]?.price.amount, 2700);
    assert.deepEqual(products.published.map((event) => event.change), ['created', 'updated']);
  });

  test('when the same values are upserted again, then nothing changes and no event is published', async () => {
    await upsert.execute(teapot);
    assert.deepEqual(await upsert.execute(teapot), { created: false });
    assert.equal(products.published.length, 1);
  });

  test('when a value breaks a rule, then it fails with InvalidProductError and stores nothing', async () => {
    await assert.rejects(upsert.execute({ ...teapot, name: ' ' }), InvalidProductError);
    assert.equal(products.products.size, 0);
  });
});
