import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { availabilityOf, supersedes } from './availability.ts';

const stock = (available: number, stockVersion = 1) => ({ sku: 'MUG-1', available, stockVersion });

describe('availabilityOf', () => {
  test('when inventory never reported the SKU, then it is out of stock with none available', () => {
    assert.deepEqual(availabilityOf(undefined, 5), { status: 'out-of-stock', available: 0 });
  });

  test('when nothing is available, then it is out of stock', () => {
    assert.deepEqual(availabilityOf(stock(0), 5), { status: 'out-of-stock', available: 0 });
  });

  test('when fewer units than the threshold are available, then it is low', () => {
    assert.deepEqual(availabilityOf(stock(1), 5), { status: 'low', available: 1 });
    assert.deepEqual(availabilityOf(stock(4), 5), { status: 'low', available: 4 });
  });

  test('when the threshold or more are available, then it is in stock', () => {
    assert.deepEqual(availabilityOf(stock(5), 5), { status: 'in-stock', available: 5 });
    assert.deepEqual(availabilityOf(stock(1000), 5), { status: 'in-stock', available: 1000 });
  });

  test('when the threshold is 0, then anything available is in stock, never low', () => {
    assert.deepEqual(availabilityOf(stock(1), 0), { status: 'in-stock', available: 1 });
    assert.deepEqual(availabilityOf(stock(0), 0), { status: 'out-of-stock', available: 0 });
  });
});

describe('supersedes', () => {
  test('when nothing is known of the SKU, then any report counts', () => {
    assert.equal(supersedes(stock(3, 1), undefined), true);
  });

  test('when a report is of a later stock version, then it replaces what is known; of the same or an earlier one, it does not', () => {
    assert.equal(supersedes(stock(3, 8), stock(9, 7)), true);
    assert.equal(supersedes(stock(3, 7), stock(9, 7)), false);
    assert.equal(supersedes(stock(3, 6), stock(9, 7)), false);
  });
});
