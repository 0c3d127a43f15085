import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { InMemoryDocumentStore } from '../../testing/in-memory-document-store.ts';
import { CsvParseReader } from './csv-parse-reader.ts';

/** A cell as files carry them: plain, or quoted with quotes, commas and line ends inside. */
const cell = fc.oneof(
  fc.stringMatching(/^[a-z0-9 .]{0,6}$/),
  fc.array(fc.constantFrom('a', ',', '""', '\n', '\r\n', ' '), { maxLength: 6 }).map((parts) => `"${parts.join('')}"`),
);
/**
 * A well-formed file: records of any width, blank lines between them, line ends of one kind (as a
 * file has them; csv-parse takes the first it meets as the kind), maybe a byte order mark, maybe no
 * final line end.
 */
const csvFile = fc.record({
  bom: fc.boolean(),
  lineEnd: fc.constantFrom('\n', '\r\n'),
  records: fc.array(fc.record({ cells: fc.array(cell, { minLength: 1, maxLength: 4 }), blankLinesAfter: fc.nat({ max: 2 }) }), { maxLength: 12 }),
  finalLineEnd: fc.boolean(),
}).map(({ bom, lineEnd, records, finalLineEnd }) => {
  let text = bom ? '\uFEFF' : '';
  records.forEach((record, index) => {
    const last = index === records.length - 1;
    text += record.cells.join(',');
    if (!last || finalLineEnd) text += lineEnd.repeat(1 + record.blankLinesAfter);
  });
  return text;
});

/** Sends the text in pieces of `size` bytes, so line ends, quotes and the byte order mark fall across them. */
function inPieces(bytes: Uint8Array, size: number): AsyncIterable<Uint8Array> {
  const pieces: Uint8Array[] = [];
  for (let start = 0; start < bytes.length; start += size) pieces.push(bytes.subarray(start, start + size));
  return Readable.from(pieces);
}

describe('CsvParseReader.countRecords', () => {
  test('when a well-formed file comes in pieces of any size, then the count is the number of records reading it yields', async () => {
    await fc.assert(fc.asyncProperty(csvFile, fc.integer({ min: 1, max: 7 }), async (text, size) => {
      const documents = new InMemoryDocumentStore();
      await documents.put('file.csv', inPieces(new TextEncoder().encode(text), size), { maxBytes: 1_000_000 });
      const reader = new CsvParseReader({ documents });
      let read = 0;
      for await (const record of reader.records('file.csv')) {
        assert.ok('values' in record, 'a well-formed file reads without errors');
        read += 1;
      }
      assert.equal(await reader.countRecords('file.csv'), read, JSON.stringify(text));
    }), { numRuns: 300 });
  });

  test('when the document does not exist, then counting fails saying so', async () => {
    const reader = new CsvParseReader({ documents: new InMemoryDocumentStore() });
    await assert.rejects(reader.countRecords('missing.csv'), /missing\.csv does not exist/);
  });
});
