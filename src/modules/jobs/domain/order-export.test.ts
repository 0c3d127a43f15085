import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { csvCell, csvHeader, csvRecord, exportColumns, formatAmount, jsonRecord, type ExportedOrder } from './order-export.ts';

const order: ExportedOrder = {
  id: 'ord_1', status: 'CONFIRMED', customerId: 'usr_1', customerEmail: 'ann@example.com',
  lines: [{ sku: 'MUG-1', quantity: 2, lineTotal: { amount: 2500, currency: 'EUR' } }, { sku: 'TEA-1', quantity: 1, lineTotal: { amount: 399, currency: 'EUR' } }],
  total: { amount: 2899, currency: 'EUR' }, refunded: null, cancellationReason: null,
  createdAt: new Date('2026-12-01T10:00:00.000Z'), updatedAt: new Date('2026-12-01T10:00:01.500Z'),
};

/** The records a CSV reader finds in `text`. */
function csvRows(text: string): string[][] {
  const rows: string[][] = parse(text);
  return rows;
}

describe('order export records', () => {
  test('when an amount is formatted, then it has exactly its currency\'s minor digits', () => {
    assert.equal(formatAmount({ amount: 1250, currency: 'EUR' }), '12.50');
    assert.equal(formatAmount({ amount: 5, currency: 'EUR' }), '0.05');
    assert.equal(formatAmount({ amount: 0, currency: 'USD' }), '0.00');
    assert.equal(formatAmount({ amount: 500, currency: 'JPY' }), '500');
    assert.equal(formatAmount({ amount: 1234, currency: 'KWD' }), '1.234');
  });

  test('when an order is written as CSV, then a CSV reader reads back its columns in order', () => {
    const [header, row] = csvRows(csvHeader() + csvRecord(order));
    assert.deepEqual(header, [...exportColumns]);
    assert.deepEqual(row, [
      'ord_1', 'CONFIRMED', 'usr_1', 'ann@example.com', '2026-12-01T10:00:00.000Z', '2026-12-01T10:00:01.500Z', 'EUR',
      '2899', '28.99', '', '', '2', 'MUG-1 x 2; TEA-1 x 1', '',
    ]);
  });

  test('when a text cell starts like a formula, then it is neutralised with an apostrophe', () => {
    for (const text of ['=HYPERLINK("http://x")', '+1', '-2+3', '@SUM(A1)', '\tcmd', '\rcmd']) {
      const cell = csvCell(text);
      const read = csvRows(`${cell}\r\n`)[0]?.[0];
      assert.equal(read, `'${text}`, `cell for ${JSON.stringify(text)}`);
    }
    assert.equal(csvCell(-5), '-5', 'a number the export writes itself is not text');
  });

  test('when any text is written as a cell, then a CSV reader reads it back, neutralised if it starts like a formula', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (text) => {
      const read = csvRows(`${csvCell(text)},end\r\n`)[0]?.[0] ?? '';
      const expected = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
      assert.equal(read, expected);
      assert.ok(!/^[=+\-@\t\r]/.test(read), 'no cell starts like a formula');
    }), { numRuns: 500 });
  });

  test('when a cancelled order is written as a JSON line, then it parses to the same fields with its refund', () => {
    const line = jsonRecord({ ...order, status: 'CANCELLED', refunded: { amount: 2899, currency: 'EUR' }, cancellationReason: 'customer, "changed mind"' });
    assert.ok(line.endsWith('\n') && !line.slice(0, -1).includes('\n'));
    const parsed = JSON.parse(line) as Record<string, unknown>;
    assert.deepEqual(parsed.refunded, { amount: 2899, currency: 'EUR', formatted: '28.99' });
    assert.equal(parsed.cancellation_reason, 'customer, "changed mind"');
    assert.deepEqual(parsed.lines, [{ sku: 'MUG-1', quantity: 2, line_total: { amount: 2500, currency: 'EUR' } }, { sku: 'TEA-1', quantity: 1, line_total: { amount: 399, currency: 'EUR' } }]);
  });
});
