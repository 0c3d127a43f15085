import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidStockError } from './inventory.errors.ts';
import { normaliseSku } from './sku.ts';
import { availableOf, canSetOnHand, maxOnHand, validOnHand } from './stock-level.ts';

function invalidField(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (error instanceof InvalidStockError) return error.field;
    throw error;
  }
  assert.fail('expected an InvalidStockError');
}

describe('normaliseSku', () => {
  test('when a SKU has lower case and surrounding spaces, then it is trimmed and upper-cased', () => {
    assert.equal(normaliseSku(' mug-01.b_2 '), 'MUG-01.B_2');
  });

  test('when a SKU is empty, has inner spaces, starts with a symbol or is longer than 64, then it is rejected', () => {
    for (const sku of ['', '   ', 'mug 01', '-mug', '.mug', 'x'.repeat(65), 'mug/1', 'mug%201']) {
      assert.equal(invalidField(() => normaliseSku(sku)), 'sku', sku);
    }
    assert.equal(normaliseSku('x'.repeat(64)), 'X'.repeat(64));
  });
});

describe('validOnHand', () => {
  test('when on-hand is 0 or the maximum, then it is accepted', () => {
    assert.equal(validOnHand(0), 0);
    assert.equal(validOnHand(maxOnHand), maxOnHand);
  });

  test('when on-hand is negative, fractional, above the maximum or not a number, then it is rejected', () => {
    for (const onHand of [-1, 2.5, maxOnHand + 1, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.equal(invalidField(() => validOnHand(onHand)), 'onHand', String(onHand));
    }
  });
});

describe('stock level', () => {
  test('when units are reserved, then available is on-hand minus reserved', () => {
    assert.equal(availableOf({ sku: 'A', onHand: 25, reserved: 7 }), 18);
  });

  test('when on-hand would drop below what is reserved, then it may not be set; down to exactly reserved, it may', () => {
    const level = { sku: 'A', onHand: 25, reserved: 7 };
    assert.equal(canSetOnHand(level, 6), false);
    assert.equal(canSetOnHand(level, 7), true);
    assert.equal(canSetOnHand(undefined, 0), true);
  });
});
