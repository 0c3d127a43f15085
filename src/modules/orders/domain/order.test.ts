import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { anOrderRequest, mugProduct, teaProduct } from '../testing/order-builder.ts';
import { InvalidOrderError } from './order.errors.ts';
import { placeOrder, validateOrderRequest } from './order.ts';

const now = new Date('2026-03-01T10:00:00Z');

function fieldOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (error instanceof InvalidOrderError) return error.field;
    throw error;
  }
  assert.fail('expected an InvalidOrderError');
}

describe('placeOrder', () => {
  test('when placed, then prices are snapshotted, totals computed in minor units and the saga starts reserving stock', () => {
    const order = placeOrder(anOrderRequest(), [mugProduct, teaProduct], 'ord_1', now, 30_000);
    assert.deepEqual(order.lines.map((line) => [line.sku, line.quantity, line.lineTotal.amount]), [['MUG-1', 2, 2598], ['TEA-1', 1, 450]]);
    assert.deepEqual(order.total, { amount: 3048, currency: 'EUR' });
    assert.equal(order.status, 'PENDING');
    assert.equal(order.currentStep, 'reserve-stock');
    assert.deepEqual(order.stepDeadline, new Date(now.getTime() + 30_000));
    assert.deepEqual(order.timeline.map((entry) => entry.step), ['placed']);
  });

  test('when products are priced in different currencies, then the order is refused', () => {
    assert.equal(fieldOf(() => placeOrder(anOrderRequest(), [mugProduct, { ...teaProduct, price: { amount: 1, currency: 'USD' } }], 'o', now, 1000)), 'items');
  });
});

describe('validateOrderRequest', () => {
  const cases: [string, Parameters<typeof anOrderRequest>[0], string][] = [
    ['no items', { items: [] }, 'items'],
    ['a zero quantity', { items: [{ sku: 'MUG-1', quantity: 0 }] }, 'items.0.quantity'],
    ['a negative quantity', { items: [{ sku: 'MUG-1', quantity: -2 }] }, 'items.0.quantity'],
    ['a huge quantity', { items: [{ sku: 'MUG-1', quantity: 1_000_000 }] }, 'items.0.quantity'],
    ['a fractional quantity', { items: [{ sku: 'MUG-1', quantity: 1.5 }] }, 'items.0.quantity'],
    ['one SKU twice (in any case)', { items: [{ sku: 'MUG-1', quantity: 1 }, { sku: 'mug-1', quantity: 1 }] }, 'items.1.sku'],
    ['a malformed payment token', { paymentToken: 'visa' }, 'payment.token'],
    ['an empty payment token', { paymentToken: '' }, 'payment.token'],
  ];
  for (const [what, overrides, field] of cases) {
    test(`when the request has ${what}, then it is refused naming ${field}`, () => {
      assert.equal(fieldOf(() => { validateOrderRequest(anOrderRequest(overrides)); }), field);
    });
  }
});
