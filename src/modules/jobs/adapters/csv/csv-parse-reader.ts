import { Readable } from 'node:stream';
import { parse, type CsvError, type Info } from 'csv-parse';
import type { CsvReader, CsvRecord, DocumentStore } from '../../application/ports.ts';
import { echoed } from '../../domain/echoed-text.ts';

/**
 * Reads stored CSV documents with csv-parse, as a stream: a record that cannot be read (bad quoting)
 * is reported with its line and skipped, and the rest of the file is still read. Rows with the
 * wrong number of columns are passed on for the caller to reject.
 */
export class CsvParseReader implements CsvReader {
  readonly #documents: DocumentStore;

  constructor(deps: { documents: DocumentStore }) {
    this.#documents = deps.documents;
  }

  async *records(documentKey: string): AsyncIterable<CsvRecord> {
    const content = await this.#documents.read(documentKey);
    if (content === undefined) throw new Error(`Document ${documentKey} does not exist`);
    const skipped: CsvRecord[] = [];
    const parser = parse({
      bom: true,
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      on_skip: (error: CsvError | undefined) => {
        // The message may quote the record: a NUL in it could not be stored with the row's error, and
        // a record of many megabytes would make the error as large, so only its start is kept.
        if (error !== undefined) skipped.push({ line: lineOf(error), error: echoed(error.message).replaceAll('\u0000', '\\0') });
        return undefined;
      },
    });
    const source = Readable.from(content);
    source.on('error', (error) => parser.destroy(error));
    source.pipe(parser);
    try {
      for await (const item of parser as AsyncIterable<{ record: string[]; info: Info }>) {
        // The parser may have skipped records further on already; each is told in its place, by line.
        for (let next = skipped[0]; next !== undefined && next.line < item.info.lines; next = skipped[0]) {
          skipped.shift();
          yield next;
        }
        yield { line: item.info.lines, values: item.record };
      }
      yield* skipped.splice(0);
    } finally {
      source.destroy();
      parser.destroy();
    }
  }
}

function lineOf(error: CsvError): number {
  const lines = (error as CsvError & { lines?: unknown }).lines;
  return typeof lines === 'number' ? lines : 0;
}
