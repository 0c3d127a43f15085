import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { isCurrencyCode, minorUnitDigits, moneyProblem, sameMoney } from './money.ts';

const currencies = Intl.supportedValuesOf('currency');

describe('moneyProblem', () => {
  test('when the amount is a whole, non-negative safe integer and the currency a known code, then there is no problem', () => {
    fc.assert(fc.property(fc.maxSafeNat(), fc.constantFrom(...currencies), (amount, currency) => {
      assert.equal(moneyProblem(amount, currency), undefined);
    }));
  });

  test('when the amount is fractional, unsafe or not a number, then the amount is the problem', () => {
    const notWhole = fc.oneof(fc.double({ noInteger: true }), fc.constantFrom(Number.MAX_SAFE_INTEGER + 1, Number.NaN, Number.POSITIVE_INFINITY));
    fc.assert(fc.property(notWhole, (amount) => {
      assert.deepEqual(moneyProblem(amount, 'EUR'), { part: 'amount', message: 'must be a whole number of minor units (e.g. cents)' });
    }));
    assert.deepEqual(moneyProblem(-1, 'EUR'), { part: 'amount', message: 'must not be negative' });
  });

  test('when the currency is not an upper-case ISO 4217 code, then the currency is the problem', () => {
    for (const currency of ['eur', 'EURO', 'XYZ', '']) {
      assert.deepEqual(moneyProblem(100, currency), { part: 'currency', message: `"${currency}" is not an ISO 4217 currency code` });
      assert.equal(isCurrencyCode(currency), false);
    }
  });
});

describe('sameMoney', () => {
  test('when amount or currency differ, then the amounts are not the same', () => {
    assert.ok(sameMoney({ amount: 100, currency: 'EUR' }, { amount: 100, currency: 'EUR' }));
    assert.ok(!sameMoney({ amount: 100, currency: 'EUR' }, { amount: 100, currency: 'USD' }));
    assert.ok(!sameMoney({ amount: 100, currency: 'EUR' }, { amount: 101, currency: 'EUR' }));
  });
});

describe('minorUnitDigits', () => {
  test('when a currency has no cents or three decimals, then its digits say so', () => {
    assert.deepEqual(['EUR', 'JPY', 'KWD'].map(minorUnitDigits), [2, 0, 3]);
  });

  test('when any known currency is asked twice or in another English locale, then the answer is the same', () => {
    for (const currency of currencies) {
      const usDigits = new Intl.NumberFormat('en-US', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
      assert.equal(minorUnitDigits(currency), usDigits, currency);
      assert.equal(minorUnitDigits(currency), minorUnitDigits(currency));
    }
  });
});
