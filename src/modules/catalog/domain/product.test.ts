import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { money } from './money.ts';
import { InvalidProductError } from './product.errors.ts';
import { changeProduct, createProduct, type NewProduct } from './product.ts';

const now = new Date('2026-01-02T03:04:05.000Z');
const later = new Date('2026-01-03T00:00:00.000Z');
const valid: NewProduct = { sku: ' mug-01 ', name: '  Blue mug ', description: 'Holds coffee', price: { amount: 1299, currency: 'EUR' } };

function invalidField(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (error instanceof InvalidProductError) return error.field;
    throw error;
  }
  assert.fail('expected an InvalidProductError');
}

describe('createProduct', () => {
  test('when the input is valid, then the SKU is normalised, text trimmed and the version starts at 1', () => {
    const product = createProduct(valid, 'prod_1', now);
    assert.equal(product.sku, 'MUG-01');
    assert.equal(product.name, 'Blue mug');
    assert.deepEqual(product.price, { amount: 1299, currency: 'EUR' });
    assert.equal(product.version, 1);
    assert.equal(product.createdAt, now);
  });

  test('when the SKU has spaces or symbols, then it is rejected', () => {
    assert.equal(invalidField(() => createProduct({ ...valid, sku: 'mug 01' }, 'p', now)), 'sku');
    assert.equal(invalidField(() => createProduct({ ...valid, sku: '-mug' }, 'p', now)), 'sku');
    assert.equal(invalidField(() => createProduct({ ...valid, sku: 'x'.repeat(65) }, 'p', now)), 'sku');
  });

  test('when the name is blank or too long, then it is rejected', () => {
    assert.equal(invalidField(() => createProduct({ ...valid, name: '   ' }, 'p', now)), 'name');
    assert.equal(invalidField(() => createProduct({ ...valid, name: 'n'.repeat(201) }, 'p', now)), 'name');
  });

  test('when the price is negative, fractional or in an unknown currency, then it is rejected', () => {
    assert.equal(invalidField(() => createProduct({ ...valid, price: { amount: -1, currency: 'EUR' } }, 'p', now)), 'price.amount');
    assert.equal(invalidField(() => createProduct({ ...valid, price: { amount: 12.5, currency: 'EUR' } }, 'p', now)), 'price.amount');
    assert.equal(invalidField(() => createProduct({ ...valid, price: { amount: 100, currency: 'XYZ' } }, 'p', now)), 'price.currency');
    assert.equal(invalidField(() => createProduct({ ...valid, price: { amount: 100, currency: 'eur' } }, 'p', now)), 'price.currency');
  });

  test('when the price is zero, then the product is free and valid', () => {
    assert.equal(createProduct({ ...valid, price: { amount: 0, currency: 'USD' } }, 'p', now).price.amount, 0);
  });
});

describe('changeProduct', () => {
  const product = createProduct(valid, 'prod_1', now);

  test('when the price changes, then the version increments and the change time is recorded', () => {
    const changed = changeProduct(product, { price: { amount: 1499, currency: 'EUR' } }, later);
    assert.equal(changed.price.amount, 1499);
    assert.equal(changed.version, 2);
    assert.equal(changed.updatedAt, later);
    assert.equal(changed.createdAt, now);
    assert.equal(changed.sku, product.sku);
  });

  test('when the changes equal the current values, then the same product comes back unchanged', () => {
    assert.equal(changeProduct(product, { name: 'Blue mug', price: { amount: 1299, currency: 'EUR' } }, later), product);
  });

  test('when a change breaks a rule, then it is rejected and nothing changes', () => {
    assert.equal(invalidField(() => changeProduct(product, { name: '' }, later)), 'name');
    assert.equal(product.name, 'Blue mug');
  });
});

describe('money', () => {
  test('when the amount exceeds a safe integer, then it is rejected', () => {
    assert.throws(() => money(Number.MAX_SAFE_INTEGER + 1, 'EUR'), InvalidProductError);
  });
});
