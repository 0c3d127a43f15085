import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkImportHeader, importColumns, isRowError, parseImportRow, SeenSkus } from './import-row.ts';
import { InvalidImportFileError } from './job.errors.ts';
import type { RowError } from './job.ts';

const valid = ['mug-1', ' Blue mug ', 'Holds coffee', '1299', 'eur', '25'];

function rejectionOf(values: string[], seen?: SeenSkus): RowError {
  const result = parseImportRow(values, 7, seen);
  assert.ok(isRowError(result), `expected a rejection of ${values.join(',')}`);
  assert.equal(result.line, 7);
  return result;
}

function reasonOf(values: string[]): string {
  return rejectionOf(values).reason;
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

  test('when a row has one fault, then it yields exactly that fault, with its column, and the reason is that fault\'s', () => {
    const rejection = rejectionOf(['mug-1', 'Mug', '', '-5', 'EUR', '1']);
    assert.deepEqual(rejection.faults, [{ column: 'price', reason: 'price must not be negative' }]);
    assert.equal(rejection.reason, 'price must not be negative');
  });

  test('when a row has three faults, then it yields all three in column order, each with its column, and the reason joins them', () => {
    const rejection = rejectionOf(['mug-1', '  ', '', '12.50', 'EUR', 'lots']);
    assert.deepEqual(rejection.faults, [
      { column: 'name', reason: 'name must not be empty' },
      { column: 'price', reason: 'price must be a whole number of minor units (e.g. cents)' },
      { column: 'stock', reason: 'stock must be a whole number from 0 to 1000000000' },
    ]);
    assert.equal(rejection.reason, rejection.faults.map((fault) => fault.reason).join('; '));
  });

  test('when every column is at fault, then each of the six is reported', () => {
    const rejection = rejectionOf(['mug 1', '', 'x'.repeat(5001), '-1', 'XYZ', '-1']);
    assert.deepEqual(rejection.faults.map((fault) => fault.column), ['sku', 'name', 'description', 'price', 'currency', 'stock']);
  });

  test('when the row has the wrong number of columns, then that is its one fault, of the row as a whole', () => {
    assert.deepEqual(rejectionOf(['mug-1', '', '100', 'XYZ', '-1']).faults, [{ column: null, reason: 'has 5 columns; expected 6' }]);
  });

  test('when any cell holds a NUL, then the row is rejected naming that column without quoting the cell, since PostgreSQL could store neither the row nor the reason', () => {
    for (const [index, column] of importColumns.entries()) {
      const rejection = rejectionOf(valid.map((value, at) => (at === index ? `${value}\u0000` : value)));
      assert.deepEqual(rejection.faults, [{ column, reason: `${column} contains the NUL character (U+0000), which no text may hold` }]);
    }
  });

  test('when a cell is not UTF-8, then that is its column\'s fault and the other columns are still checked', () => {
    const rejection = rejectionOf(['mug-1', 'Mug \uFFFD', '', '100', 'EUR', '-1']);
    assert.deepEqual(rejection.faults, [
      { column: 'name', reason: 'name is not valid UTF-8 text' },
      { column: 'stock', reason: 'stock must be a whole number from 0 to 1000000000' },
    ]);
  });
});

describe('parseImportRow with the SKUs seen before', () => {
  test('when a SKU comes again on a later line, then that row is rejected naming the first line; the same line again is not', () => {
    const seen = new SeenSkus();
    const first = parseImportRow(valid, 2, seen);
    assert.ok(!isRowError(first));
    assert.deepEqual(parseImportRow(['MUG-1', 'Other', '', '1', 'EUR', '1'], 5, seen), {
      line: 5, reason: 'duplicate SKU MUG-1 (first on line 2)', faults: [{ column: 'sku', reason: 'duplicate SKU MUG-1 (first on line 2)' }],
    });
    assert.deepEqual(parseImportRow(valid, 2, seen), first);
  });

  test('when a repeated SKU comes with other faults, then the repeat is one more fault of the sku column', () => {
    const seen = new SeenSkus();
    parseImportRow(valid, 2, seen);
    assert.deepEqual(rejectionOf(['mug-1', 'Mug', '', '-1', 'EUR', '1'], seen).faults, [
      { column: 'sku', reason: 'duplicate SKU MUG-1 (first on line 2)' },
      { column: 'price', reason: 'price must not be negative' },
    ]);
  });

  test('when a row with a SKU is rejected, then its SKU is not taken: a later valid row with it is accepted', () => {
    const seen = new SeenSkus();
    rejectionOf(['mug-1', '', '', '100', 'EUR', '1'], seen);
    const later = parseImportRow(valid, 9, seen);
    assert.ok(!isRowError(later), JSON.stringify(later));
    assert.equal(later.sku, 'MUG-1');
  });
});
