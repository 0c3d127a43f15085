import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkImportHeader, isRowError, parseImportRow, SeenSkus, type ImportRow } from './import-row.ts';
import { InvalidImportFileError } from './job.errors.ts';

const valid = ['mug-1', ' Blue mug ', 'Holds coffee', '1299', 'eur', '25'];

function reasonOf(values: string[]): string {
  const result = parseImportRow(values, 7);
  assert.ok(isRowError(result), `expected a rejection of ${values.join(',')}`);
  assert.equal(result.line, 7);
  return result.reason;
}

describe('checkImportHeader', () => {
  test('when the header names the six columns (any letter case, with a BOM), then it is accepted', () => {
    assert.doesNotThrow(() => { checkImportHeader(['\uFEFFSKU', 'Name', 'description', 'price', 'currency', 'stock']); });
  });

  test('when the file is empty or the columns differ, then it is refused', () => {
    assert.throws(() => { checkImportHeader(undefined); }, InvalidImportFileError);
    assert.throws(() => { checkImportHeader(['sku', 'name', 'price', 'currency', 'stock']); }, InvalidImportFileError);
    assert.throws(() => { checkImportHeader(['sku', 'name', 'description', 'currency', 'price', 'stock']); }, InvalidImportFileError);
  });

  test('when the header holds a NUL, then it is refused with a message that does not quote it', () => {
    assert.throws(() => { checkImportHeader(['sku\u0000', 'name', 'description', 'price', 'currency', 'stock']); }, (error: unknown) => {
      assert.ok(error instanceof InvalidImportFileError);
      assert.match(error.message, /NUL character/);
      assert.ok(!error.message.includes('\u0000'));
      return true;
    });
  });
});

describe('parseImportRow', () => {
  test('when the row is valid, then SKU and currency are upper-cased, text trimmed and numbers parsed', () => {
    const row = parseImportRow(valid, 2);
    assert.deepEqual(row, { line: 2, sku: 'MUG-1', name: 'Blue mug', description: 'Holds coffee', price: { amount: 1299, currency: 'EUR' }, stock: 25 });
  });

  test('when a value breaks a rule, then the row is rejected with a reason naming it', () => {
    assert.match(reasonOf(['mug-1', 'Mug', '', '-5', 'EUR', '1']), /price must not be negative/);
    assert.match(reasonOf(['mug-1', 'Mug', '', '12.50', 'EUR', '1']), /price must be a whole number/);
    assert.match(reasonOf(['mug-1', 'Mug', '', '100', 'XYZ', '1']), /currency "XYZ"/);
    assert.match(reasonOf(['mug-1', '  ', '', '100', 'EUR', '1']), /name must not be empty/);
    assert.match(reasonOf(['mug 1', 'Mug', '', '100', 'EUR', '1']), /^sku/);
    assert.match(reasonOf(['mug-1', 'Mug', '', '100', 'EUR', '-1']), /^stock/);
    assert.match(reasonOf(['mug-1', 'Mug', '100', 'EUR', '1']), /has 5 columns; expected 6/);
    assert.match(reasonOf(['mug-1', 'Mug \uFFFD', '', '100', 'EUR', '1']), /not valid UTF-8/);
  });

  test('when any cell holds a NUL, then the row is rejected without quoting it, since PostgreSQL could store neither the row nor the reason', () => {
    for (let column = 0; column < valid.length; column += 1) {
      const reason = reasonOf(valid.map((value, index) => (index === column ? `${value}\u0000` : value)));
      assert.equal(reason, 'contains the NUL character (U+0000), which no text may hold');
    }
  });
});

describe('SeenSkus', () => {
  test('when a SKU comes again on a later line, then that row is rejected naming the first line; the same line again is not', () => {
    const seen = new SeenSkus();
    const first = parseImportRow(valid, 2) as ImportRow;
    const second = parseImportRow(['MUG-1', 'Other', '', '1', 'EUR', '1'], 5) as ImportRow;
    assert.equal(seen.check(first), first);
    assert.deepEqual(seen.check(second), { line: 5, reason: 'duplicate SKU MUG-1 (first on line 2)' });
    assert.equal(seen.check(first), first);
  });
});
