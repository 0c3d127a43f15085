import { isRowError, parseImportRow, SeenSkus, type ImportRow } from '../domain/import-row.ts';
import { addCounts, isFinished, maxKeptRowErrors, rowError, type Job, type JobCounts, type RowError } from '../domain/job.ts';
import { describeFailure } from './describe-failure.ts';
import type { CsvReader, JobRepository, ProductCatalog, StockLevels } from './ports.ts';

/**
 * One attempt at a catalogue import: reads the stored CSV as a stream, validates each row, upserts
 * the product and sets its stock (up to `rowConcurrency` rows at once within a batch), and commits
 * progress every `batchSize` rows, once all of them are applied, together with the checkpoint they reach. A later attempt (after a crash or a failure) starts after the
 * checkpoint; rows past it are applied again, which upserts by SKU make harmless.
 *
 * Counts are those of a clean import even so. A row applied again finds the product its first
 * application created and the catalog answers `updated`; so before a batch is applied, the SKUs
 * of it that have no product are recorded in the jobs database, and a row whose SKU is recorded
 * counts as created. The record is kept until the checkpoint after it commits, and a later attempt
 * adds to it, never overwrites it. Committing rows and checkpoint in one transaction cannot do this:
 * where the catalog is another service, its rows are written over HTTP, in its own database.
 */
export class RunImport {
  readonly #jobs: JobRepository;
  readonly #csv: CsvReader;
  readonly #catalog: ProductCatalog;
  readonly #stock: StockLevels;
  readonly #batchSize: number;
  readonly #rowConcurrency: number;
  readonly #now: () => Date;

  constructor(deps: { jobs: JobRepository; csv: CsvReader; catalog: ProductCatalog; stock: StockLevels; batchSize?: number; rowConcurrency?: number; now?: () => Date }) {
    this.#jobs = deps.jobs;
    this.#csv = deps.csv;
    this.#catalog = deps.catalog;
    this.#stock = deps.stock;
    this.#batchSize = deps.batchSize ?? 500;
    this.#rowConcurrency = Math.max(1, deps.rowConcurrency ?? 8);
    this.#now = deps.now ?? (() => new Date());
  }

  /** `lastAttempt` says a failure now is final; `signal` ends the attempt when its time is up. */
  async execute(jobId: string, options: { lastAttempt: boolean; signal?: AbortSignal }): Promise<void> {
    const job = await this.#jobs.startAttempt(jobId, this.#now());
    if (job === undefined || isFinished(job.status) || job.inputKey === null) return;
    try {
      if (job.progress.total === null) await this.#jobs.setTotal(job.id, await this.#countRows(job.inputKey));
      const outcome = await this.#importRows(job, job.inputKey, options.signal);
      if (outcome === 'done') await this.#jobs.finish(job.id, { status: 'succeeded' }, this.#now());
    } catch (error) {
      const reason = describeFailure(error);
      if (options.lastAttempt) await this.#jobs.finish(job.id, { status: 'failed', reason }, this.#now());
      else await this.#jobs.recordFailedAttempt(job.id, reason, this.#now());
      throw error;
    }
  }

  async #countRows(key: string): Promise<number> {
    let records = 0;
    // eslint-disable-next-line @typescript-eslint/no-unused-vars -- only the number of records matters
    for await (const _record of this.#csv.records(key)) records += 1;
    return Math.max(0, records - 1);
  }

  async #importRows(job: Job, key: string, signal: AbortSignal | undefined): Promise<'done' | 'cancelled'> {
    const seen = new SeenSkus();
    let counts: JobCounts = job.counts;
    let kept = Math.min(job.counts.rejected, maxKeptRowErrors);
    let batch: JobCounts = { created: 0, updated: 0, rejected: 0 };
    let batchErrors: RowError[] = [];
    let pending: ImportRow[] = [];
    let index = 0;
    let checkpoint = job.checkpoint;
    const reject = (error: RowError) => {
      batch = { ...batch, rejected: batch.rejected + 1 };
      batchErrors.push(error);
    };
    const commit = async (): Promise<boolean> => {
      const newSkus = await this.#recordNewSkus(job.id, pending);
      const count = (row: ImportRow, change: 'created' | 'updated') => {
        const counted = change === 'created' || newSkus.has(row.sku) ? 'created' : 'updated';
        batch = { ...batch, [counted]: batch[counted] + 1 };
      };
      await this.#applyAll(pending, reject, count);
      pending = [];
      counts = addCounts(counts, batch);
      // Rows of a batch finish out of order; errors are kept by line, the first ones of the file.
      const newErrors = batchErrors.sort((a, b) => a.line - b.line).slice(0, maxKeptRowErrors - kept);
      kept += newErrors.length;
      const saved = await this.#jobs.saveProgress(job.id, { checkpoint: index, done: index, counts, newErrors }, this.#now());
      checkpoint = index;
      batch = { created: 0, updated: 0, rejected: 0 };
      batchErrors = [];
      return saved;
    };

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
      if (isRowError(row)) reject(row);
      else pending.push(row);
      if (index - checkpoint >= this.#batchSize && !(await commit())) return 'cancelled';
    }
    if (index > checkpoint || job.checkpoint === 0) {
      if (!(await commit())) return 'cancelled';
    }
    return 'done';
  }

  /** Records which of the batch's SKUs have no product yet; answers all the job has recorded since its checkpoint. */
  async #recordNewSkus(jobId: string, rows: readonly ImportRow[]): Promise<ReadonlySet<string>> {
    const skus = rows.map((row) => row.sku);
    const existing = skus.length === 0 ? new Set<string>() : await this.#catalog.existing(skus);
    return this.#jobs.recordNewSkus(jobId, skus.filter((sku) => !existing.has(sku)));
  }

  /**
   * Applies a batch's valid rows, `rowConcurrency` at a time: each row is its own short write in the
   * catalog and inventory, so waiting on one commit at a time would leave the database idle. Their
   * SKUs differ (a repeated SKU is rejected before), so the order they land in does not matter.
   */
  async #applyAll(rows: readonly ImportRow[], reject: (error: RowError) => void, count: (row: ImportRow, change: 'created' | 'updated') => void): Promise<void> {
    let next = 0;
    const lane = async () => {
      try {
        for (let row = rows[next++]; row !== undefined; row = rows[next++]) await this.#applyRow(row, reject, count);
      } catch (error) {
        next = rows.length; // the other lanes stop after their current row
        throw error;
      }
    };
    const lanes = await Promise.allSettled(Array.from({ length: Math.min(this.#rowConcurrency, rows.length) }, lane));
    // Every lane has stopped before the attempt fails, so nothing of it writes after its failure is recorded.
    const failed = lanes.find((lane): lane is PromiseRejectedResult => lane.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }

  async #applyRow(row: ImportRow, reject: (error: RowError) => void, count: (row: ImportRow, change: 'created' | 'updated') => void): Promise<void> {
    const product = await this.#catalog.upsert(row);
    if (typeof product === 'object') {
      reject(rowError(row.line, [{ column: null, reason: product.rejected }]));
      return;
    }
    const stock = await this.#stock.set(row.sku, row.stock);
    if (typeof stock === 'object') {
      reject(rowError(row.line, [{ column: 'stock', reason: `the product was saved but its stock was not: ${stock.rejected}` }]));
      return;
    }
    count(row, product);
  }
}
