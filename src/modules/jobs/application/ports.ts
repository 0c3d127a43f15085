import type { Invoice, StoredInvoice } from '../domain/invoice.ts';
import type { ImportRow } from '../domain/import-row.ts';
import type { ExportedOrder, ExportFilter, ExportPosition } from '../domain/order-export.ts';
import type { Job, JobCounts, JobKind, RowError } from '../domain/job.ts';

/** Position after the last job of a page, newest first. */
export interface JobCursor {
  createdAt: Date;
  id: string;
}

export interface JobPage {
  items: Job[];
  next: JobCursor | null;
}

/** What one chunk of rows changed; committed together with the checkpoint after it. */
export interface JobProgress {
  checkpoint: number;
  done: number;
  counts: JobCounts;
  /** Errors of this chunk's rows; only those within the first kept ones are stored. */
  newErrors: readonly RowError[];
}

/**
 * Job records. Every status change is conditional on the current status, so a cancelled or
 * finished job never moves again whatever a late worker writes; finishing also queues the
 * `jobs.completed` / `jobs.failed` event in the same transaction.
 */
export interface JobRepository {
  findById(id: string): Promise<Job | undefined>;
  /** Newest first. */
  list(query: { after?: JobCursor; limit: number }): Promise<JobPage>;
  /** The kept row errors, by line. */
  rowErrors(jobId: string): Promise<RowError[]>;
  /** A new attempt: a queued or running job becomes running with one more attempt; a finished one is answered as it is. */
  startAttempt(id: string, now: Date): Promise<Job | undefined>;
  /** Records the total number of rows once known. */
  setTotal(id: string, total: number): Promise<void>;
  /**
   * Commits a chunk's progress (in the caller's shared transaction where there is one on this
   * database, so with the chunk's rows); false when the job is no longer running (it was cancelled).
   */
  saveProgress(id: string, progress: JobProgress, now: Date): Promise<boolean>;
  /** Ends a running or queued job; false when it had already ended. */
  finish(id: string, outcome: { status: 'succeeded' } | { status: 'failed'; reason: string }, now: Date): Promise<boolean>;
  /** An attempt failed and another will follow: back to queued, with the reason. */
  recordFailedAttempt(id: string, reason: string, now: Date): Promise<void>;
  /** Cancels a queued or running job; answers the job as it is now, or undefined when unknown. */
  /** With `act`, a cancellation made is recorded in the audit trail in the same transaction (with the status it ended). */
  cancel(id: string, now: Date, act?: AdminAct): Promise<Job | undefined>;
}

/** Records new jobs and queues them for a worker, both or neither. */
/**
 * An administrative act on jobs' data, as the audit trail keeps it (src/platform/audit): recorded by
 * the store in the transaction of the write that performs it, so a failed act leaves no entry.
 */
export interface AdminAct {
  action: string;
  targetId: string;
  before?: unknown;
  after?: unknown;
}

export interface JobSubmitter {
  /**
   * Stores the job and queues it. Throws JobQueueUnavailableError when the queue is not running.
   * With `act`, records it in the audit trail in the same transaction.
   */
  submit(job: Job, act?: AdminAct): Promise<void>;
  /** Takes a queued job off its queue (best effort: a running one stops at its next checkpoint). */
  withdraw(job: Job): Promise<void>;
}

/** Stored documents (uploads, generated PDFs), streamed in and out, never held whole in memory. */
export interface DocumentStore {
  /** Stores `content` under `key`, all or nothing; throws DocumentTooLargeError past `maxBytes`. */
  put(key: string, content: AsyncIterable<Uint8Array>, limits: { maxBytes: number }): Promise<{ bytes: number }>;
  /** The document's bytes, or undefined when there is none. */
  read(key: string): Promise<AsyncIterable<Uint8Array> | undefined>;
  /** Deletes the document; removing one that is not there (never stored, or removed already) succeeds. */
  remove(key: string): Promise<void>;
}

/** A finished job past its retention, with the key of every document it may have stored. */
export interface ExpiredJobDocuments {
  jobId: string;
  documentKeys: readonly string[];
}

/**
 * Finished jobs past their retention whose stored documents are still to be removed. Retention
 * deletes a job's row only once it is marked here, so no document is ever left without its job.
 */
export interface ExpiredJobs {
  /** Up to `limit` of them, those that finished first first, leaving out the jobs named in `except`. */
  withDocuments(query: { limit: number; except: readonly string[] }): Promise<ExpiredJobDocuments[]>;
  /** Records that these jobs' documents are gone, so their rows may be deleted. */
  markDocumentsRemoved(jobIds: readonly string[], now: Date): Promise<void>;
}

/** One record of a CSV document: its values, or why it could not be read (bad quoting), with its line. */
export type CsvRecord = { line: number; values: string[] } | { line: number; error: string };

/** Reads a stored CSV document record by record, as a stream. */
export interface CsvReader {
  /** Every record, the header first; stops early when the caller stops iterating. */
  records(documentKey: string): AsyncIterable<CsvRecord>;
  /**
   * How many records `records` yields, the header included, counted from the line ends outside
   * quotes without reading any value: a pass over the bytes, for progress. Exact for a well-formed
   * file; where quoting is broken it is an estimate (`records` reports such records as unreadable).
   */
  countRecords(documentKey: string): Promise<number>;
}

/** A row's fate where a chunk was written: applied (with what it did), or rejected for a rule of the module it reached. */
export type ChunkOutcome<Applied extends string> = Applied | { rejected: string };

/** Where imported products go (the catalog module, through its contract). */
export interface ProductCatalog {
  /**
   * Upserts a chunk's rows (distinct SKUs) by SKU at once; one outcome per row, in order. `key` names
   * the chunk for good: a chunk sent again with it changes nothing and answers its first outcomes.
   */
  upsertAll(key: string, rows: readonly ImportRow[]): Promise<ChunkOutcome<'created' | 'updated'>[]>;
}

/** Where imported stock goes (the inventory module, through its contract). */
export interface StockLevels {
  /** Sets a chunk's stock levels (distinct SKUs) at once; one outcome per level, in order. Idempotent by `key`, as above. */
  setAll(key: string, levels: readonly { sku: string; onHand: number }[]): Promise<ChunkOutcome<'set'>[]>;
}

/**
 * Runs one chunk's writes and its checkpoint as one unit of work: one transaction where the catalog,
 * inventory and jobs share a database (the single process); elsewhere each write commits on its own
 * and the keys of the chunk's requests make repeating them harmless.
 */
export interface ImportTransactions {
  run<T>(work: () => Promise<T>): Promise<T>;
}

/** Where exported orders come from (the orders module, through its contract). */
export interface OrderSource {
  /**
   * At most `limit` orders matching the filter placed before `placedBefore`, newest first, after
   * `after`; `next` is null on the last page. With `count`, also how many match in all.
   */
  page(query: { filter: ExportFilter; placedBefore: string; after: ExportPosition | null; limit: number; count: boolean }): Promise<{
    orders: ExportedOrder[]; next: ExportPosition | null; total?: number;
  }>;
}

/** One written part of an export's file: its document, how many orders and bytes it holds, and where the next part starts (null: the last). */
export interface ExportPart {
  part: number;
  documentKey: string;
  orders: number;
  bytes: number;
  next: ExportPosition | null;
}

/** The recorded parts of export files. */
export interface ExportParts {
  /** An export's recorded parts, in order. */
  list(jobId: string): Promise<ExportPart[]>;
  /**
   * Records a written part together with the job's progress after it (`done` orders), in one
   * transaction; false, recording nothing, when the job is no longer running (it was cancelled).
   */
  record(jobId: string, part: ExportPart, done: number, now: Date): Promise<boolean>;
}

/** Draws an invoice as a PDF, streamed. */
export interface InvoiceRenderer {
  render(invoice: Invoice): AsyncIterable<Uint8Array>;
}

/** Invoices, by order. */
export interface InvoiceRepository {
  findByOrderId(orderId: string): Promise<StoredInvoice | undefined>;
  /** Records an order's invoice; false, changing nothing, when the order has one already. */
  record(invoice: StoredInvoice): Promise<boolean>;
  /** The invoice's document is stored under `documentKey`. */
  markDrawn(orderId: string, documentKey: string): Promise<void>;
}

/** What the job workers report for monitoring (port); the default reports nothing. */
export interface JobMetrics {
  /** One attempt ended: `completed` (the handler returned) or `failed` (it threw; pg-boss retries or dead-letters it). */
  attemptEnded(kind: JobKind, outcome: 'completed' | 'failed', seconds: number): void;
  /** A job was given up after its last attempt. */
  deadLettered(kind: JobKind): void;
}

/** Jobs of one kind waiting (retries included) and running, as the queue last counted them. */
export interface JobQueueDepth {
  kind: JobKind;
  queued: number;
  active: number;
}
