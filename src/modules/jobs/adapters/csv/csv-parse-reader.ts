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

  async countRecords(documentKey: string): Promise<number> {
    const content = await this.#documents.read(documentKey);
    if (content === undefined) throw new Error(`Document ${documentKey} does not exist`);
    const counter = new RecordCounter();
    for await (const bytes of content) counter.add(bytes);
    return counter.end();
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

const quote = 0x22;
const lineFeed = 0x0a;
const carriageReturn = 0x0d;
/** The UTF-8 byte order mark, which csv-parse drops (`bom`) and which makes no record on its own. */
const byteOrderMark = [0xef, 0xbb, 0xbf];

/**
 * Counts records as csv-parse reads them with the options above: a record ends at a line feed
 * outside quotes (a doubled quote inside quotes toggles twice, so it changes nothing), a line with
 * nothing on it is skipped, and a carriage return is part of a line end, not of its content.
 */
class RecordCounter {
  records = 0;
  #inQuotes = false;
  #lineHasContent = false;
  /** Bytes of the file still compared with the byte order mark; -1 once past it. */
  #bomMatched = 0;

  add(bytes: Uint8Array): void {
    let inQuotes = this.#inQuotes;
    let lineHasContent = this.#lineHasContent;
    let index = 0;
    while (this.#bomMatched >= 0 && index < bytes.length) {
      if (bytes[index] !== byteOrderMark[this.#bomMatched]) {
        // Not a byte order mark after all: the bytes compared so far were content.
        if (this.#bomMatched > 0) lineHasContent = true;
        this.#bomMatched = -1;
        break;
      }
      this.#bomMatched += 1;
      index += 1;
      if (this.#bomMatched === byteOrderMark.length) this.#bomMatched = -1;
    }
    for (; index < bytes.length; index += 1) {
      const byte = bytes[index];
      if (byte === quote) {
        inQuotes = !inQuotes;
        lineHasContent = true;
      } else if (byte === lineFeed && !inQuotes) {
        if (lineHasContent) this.records += 1;
        lineHasContent = false;
      } else if (byte !== carriageReturn || inQuotes) {
        lineHasContent = true;
      }
    }
    this.#inQuotes = inQuotes;
    this.#lineHasContent = lineHasContent;
  }

  /** The count once every byte was added: a last line without a line end is a record too. */
  end(): number {
    return this.records + (this.#lineHasContent ? 1 : 0);
  }
}

function lineOf(error: CsvError): number {
  const lines = (error as CsvError & { lines?: unknown }).lines;
  return typeof lines === 'number' ? lines : 0;
}
