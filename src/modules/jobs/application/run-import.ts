import { isRowError, parseImportRow, SeenSkus, type ImportRow } from '../domain/import-row.ts';
import { addCounts, isFinished, maxKeptRowErrors, rowError, type Job, type JobCounts, type RowError } from '../domain/job.ts';
import { recordAttemptFailure } from './describe-failure.ts';
import type { CsvReader, ImportTransactions, JobRepository, ProductCatalog, StockLevels } from './ports.ts';

/** Rows of a chunk whose parsing left them valid, and the errors of the others. */
interface Chunk {
  rows: ImportRow[];
  errors: RowError[];
}

/** Runs work as it is: for stores that share no transaction. */
const eachOnItsOwn: ImportTransactions = { run: (work) => work() };

/**
 * One attempt at a catalogue import: reads the stored CSV as a stream, validates each row, and writes
 * the file in chunks of `chunkSize` rows: the chunk's valid rows are upserted into the catalog in one
 * request, their stock set in inventory in another, and the checkpoint after the chunk is committed
 * with the counts and row errors it adds, all as one unit of work (`transactions`). A later attempt
 * (after a crash or a failure) starts after the checkpoint.
 *
 * Counts are those of a clean import even so. Where the catalog, inventory and jobs share a database,
 * a chunk's rows and its checkpoint commit in one transaction: a chunk is applied and counted once,
 * or not at all. Where they do not (services), each request names the chunk (`<job>:<first>-<last>`
 * row), and the catalog and inventory answer a chunk they applied before with the outcomes of its
 * first application, writing nothing: a chunk applied before a crash is counted as it was then.
 */
export class RunImport {
  readonly #jobs: JobRepository;
  readonly #csv: CsvReader;
  readonly #catalog: ProductCatalog;
  readonly #stock: StockLevels;
  readonly #transactions: ImportTransactions;
  readonly #chunkSize: number;
  readonly #now: () => Date;

  constructor(deps: {
    jobs: JobRepository; csv: CsvReader; catalog: ProductCatalog; stock: StockLevels; transactions?: ImportTransactions; chunkSize?: number; now?: () => Date;
  }) {
    this.#jobs = deps.jobs;
    this.#csv = deps.csv;
    this.#catalog = deps.catalog;
    this.#stock = deps.stock;
    this.#transactions = deps.transactions ?? eachOnItsOwn;
    this.#chunkSize = Math.max(1, deps.chunkSize ?? 2000);
    this.#now = deps.now ?? (() => new Date());
  }

  /** `lastAttempt` says a failure now is final; `signal` ends the attempt when its time is up. */
  async execute(jobId: string, options: { lastAttempt: boolean; signal?: AbortSignal }): Promise<void> {
    const job = await this.#jobs.startAttempt(jobId, this.#now());
    if (job === undefined || isFinished(job.status) || job.inputKey === null) return;
    // The rows are counted (for progress) while the first chunks are written: both mostly wait on I/O.
    const counting = job.progress.total === null
      ? this.#countRows(job.inputKey).then(async (total) => { await this.#jobs.setTotal(job.id, total); return total; })
      : Promise.resolve(job.progress.total);
    counting.catch(() => undefined); // awaited below, after the rows
    try {
      const { outcome, rows } = await this.#importRows(job, job.inputKey, options.signal).finally(() => counting.catch(() => undefined));
      const counted = await counting;
      // The count reads line ends, not values: in a file with broken quoting it can be off, and the rows read are the truth.
      if (outcome === 'done' && counted !== rows) await this.#jobs.setTotal(job.id, rows);
      if (outcome === 'done') await this.#jobs.finish(job.id, { status: 'succeeded' }, this.#now());
    } catch (error) {
      await recordAttemptFailure(this.#jobs, job.id, error, { lastAttempt: options.lastAttempt, now: this.#now() });
      throw error;
    }
  }

  async #countRows(key: string): Promise<number> {
    return Math.max(0, (await this.#csv.countRecords(key)) - 1);
  }

  /** Writes the rows after the checkpoint; answers how the attempt ended and how many rows the file has. */
  async #importRows(job: Job, key: string, signal: AbortSignal | undefined): Promise<{ outcome: 'done' | 'cancelled'; rows: number }> {
    const seen = new SeenSkus();
    let counts: JobCounts = job.counts;
    let kept = Math.min(job.counts.rejected, maxKeptRowErrors);
    let chunk: Chunk = { rows: [], errors: [] };
    let index = 0;
    let checkpoint = job.checkpoint;
    // One chunk is written while the next is parsed; the next is written only once it has committed.
    let writing: Promise<boolean> = Promise.resolve(true);
    const commit = async (rows: Chunk, from: number, to: number): Promise<boolean> => {
      const saved = await this.#transactions.run(async () => {
        const applied = await this.#applyChunk(`${job.id}:${from}-${to}`, rows);
        const newErrors = applied.errors.sort((a, b) => a.line - b.line).slice(0, maxKeptRowErrors - kept);
        const after = addCounts(counts, applied.counts);
        const done = await this.#jobs.saveProgress(job.id, { checkpoint: to, done: to, counts: after, newErrors }, this.#now());
        return { done, after, keptErrors: newErrors.length };
      });
      counts = saved.after;
      kept += saved.keptErrors;
      return saved.done;
    };
    /** Starts writing the chunk once the one before it committed; false when the job was cancelled meanwhile. */
    const submit = async (): Promise<boolean> => {
      if (!(await writing)) return false;
      writing = commit(chunk, checkpoint + 1, index);
      writing.catch(() => undefined); // awaited by the next submit or at the end
      checkpoint = index;
      chunk = { rows: [], errors: [] };
      return true;
    };

    try {
      let header = true;
      for await (const record of this.#csv.records(key)) {
        if (header) {
          header = false;
          continue;
        }
        index += 1;
        const row = 'error' in record
          ? rowError(record.line, [{ column: null, reason: `cannot be read: ${record.error}` }])
          : parseImportRow(record.values, record.line, seen);
        // Rows before the checkpoint were handled by an earlier attempt; only their SKUs matter now.
        if (index <= job.checkpoint) continue;
        signal?.throwIfAborted();
        if (isRowError(row)) chunk.errors.push(row);
        else chunk.rows.push(row);
        if (index - checkpoint >= this.#chunkSize && !(await submit())) return { outcome: 'cancelled', rows: index };
      }
      if ((index > checkpoint || job.checkpoint === 0) && !(await submit())) return { outcome: 'cancelled', rows: index };
      return { outcome: (await writing) ? 'done' : 'cancelled', rows: index };
    } catch (error) {
      // The chunk being written has ended before the attempt fails, so nothing of it writes after its failure is recorded.
      await writing.catch(() => undefined);
      throw error;
    }
  }

  /**
   * Writes a chunk's valid rows: products first, then the stock of those the catalog took (a row whose
   * product was rejected sets no stock). Answers what the chunk adds to the counts, and its row errors
   * (those of parsing too).
   */
  async #applyChunk(key: string, chunk: Chunk): Promise<{ counts: JobCounts; errors: RowError[] }> {
    const errors = [...chunk.errors];
    const products = chunk.rows.length === 0 ? [] : await this.#catalog.upsertAll(key, chunk.rows);
    const taken: { row: ImportRow; change: 'created' | 'updated' }[] = [];
    chunk.rows.forEach((row, position) => {
      const product = products[position];
      if (product === undefined) throw new Error(`the catalog answered ${products.length} outcomes for ${chunk.rows.length} rows`);
      if (typeof product === 'object') errors.push(rowError(row.line, [{ column: null, reason: product.rejected }]));
      else taken.push({ row, change: product });
    });
    const stock = taken.length === 0 ? [] : await this.#stock.setAll(key, taken.map(({ row }) => ({ sku: row.sku, onHand: row.stock })));

    const counts = { created: 0, updated: 0, rejected: chunk.errors.length + chunk.rows.length - taken.length };
    taken.forEach(({ row, change }, position) => {
      const level = stock[position];
      if (level === undefined) throw new Error(`inventory answered ${stock.length} outcomes for ${taken.length} levels`);
      if (typeof level === 'object') {
        errors.push(rowError(row.line, [{ column: 'stock', reason: `the product was saved but its stock was not: ${level.rejected}` }]));
        counts.rejected += 1;
      } else {
        counts[change] += 1;
      }
    });
    return { counts, errors };
  }
}
