import { isFinished, type Job } from '../domain/job.ts';
import { exportPartKey, exportRecord, exportRequestOf, type ExportFormat, type ExportPosition, type ExportRequest } from '../domain/order-export.ts';
import { recordAttemptFailure } from './describe-failure.ts';
import type { DocumentStore, ExportParts, JobRepository, OrderSource } from './ports.ts';

type Page = Awaited<ReturnType<OrderSource['page']>>;

/** No part is ever near this; the bound only keeps a runaway page from filling the disk. */
const maxPartBytes = 1024 * 1024 * 1024;

/**
 * One attempt at an order export. It reads the orders a page at a time (`partSize` orders, newest
 * first, after the position the last page ended at) and writes each page as a part of the file: a
 * stored document, then a row recording it with the job's progress, in one transaction. The next
 * page is read while a part is written, so reading and writing overlap and at most two pages are held.
 *
 * A later attempt (after a crash or a failure) starts after the last recorded part. A part written
 * but not recorded before the crash is written again under the same key from the same position,
 * byte for byte the same as long as its orders have not changed meanwhile, so the file of a resumed
 * export is the file an export without the crash writes.
 */
export class RunExport {
  readonly #jobs: JobRepository;
  readonly #parts: ExportParts;
  readonly #orders: OrderSource;
  readonly #documents: DocumentStore;
  readonly #partSize: number;
  readonly #now: () => Date;

  constructor(deps: { jobs: JobRepository; parts: ExportParts; orders: OrderSource; documents: DocumentStore; partSize?: number; now?: () => Date }) {
    this.#jobs = deps.jobs;
    this.#parts = deps.parts;
    this.#orders = deps.orders;
    this.#documents = deps.documents;
    this.#partSize = Math.max(1, deps.partSize ?? 5000);
    this.#now = deps.now ?? (() => new Date());
  }

  /** `lastAttempt` says a failure now is final; `signal` ends the attempt when its time is up. */
  async execute(jobId: string, options: { lastAttempt: boolean; signal?: AbortSignal }): Promise<void> {
    const job = await this.#jobs.startAttempt(jobId, this.#now());
    if (job === undefined || isFinished(job.status)) return;
    try {
      const outcome = await this.#writeParts(job, exportRequestOf(job), options.signal);
      if (outcome === 'done') await this.#jobs.finish(job.id, { status: 'succeeded' }, this.#now());
    } catch (error) {
      await recordAttemptFailure(this.#jobs, job.id, error, { lastAttempt: options.lastAttempt, now: this.#now() });
      throw error;
    }
  }

  async #writeParts(job: Job, request: ExportRequest, signal: AbortSignal | undefined): Promise<'done' | 'cancelled'> {
    const recorded = await this.#parts.list(job.id);
    const last = recorded.at(-1);
    if (last?.next === null) return 'done'; // every part was recorded; only the finish was lost
    let done = recorded.reduce((sum, part) => sum + part.orders, 0);
    let part = recorded.length;
    const read = (after: ExportPosition | null, count: boolean): Promise<Page> => {
      const page = this.#orders.page({ filter: request.filter, placedBefore: request.placedBefore, after, limit: this.#partSize, count });
      page.catch(() => undefined); // awaited in turn below
      return page;
    };
    let reading = read(last?.next ?? null, job.progress.total === null);
    for (;;) {
      signal?.throwIfAborted();
      const page = await reading;
      if (page.total !== undefined) await this.#jobs.setTotal(job.id, page.total);
      if (page.next !== null) reading = read(page.next, false);
      part += 1;
      const documentKey = exportPartKey(job.id, part, request.format);
      const stored = await this.#documents.put(documentKey, encoded(request.format, page), { maxBytes: maxPartBytes });
      done += page.orders.length;
      const kept = await this.#parts.record(job.id, { part, documentKey, orders: page.orders.length, bytes: stored.bytes, next: page.next }, done, this.#now());
      if (!kept) return 'cancelled';
      if (page.next === null) return 'done';
    }
  }
}

/**
 * A page's records in the format, as bytes, a few hundred orders at a time, with a turn of the event
 * loop before each slice: formatting thousands of orders is CPU work requests should not wait behind.
 */
async function* encoded(format: ExportFormat, page: Page): AsyncIterable<Uint8Array> {
  const encoder = new TextEncoder();
  for (let start = 0; start < page.orders.length; start += 500) {
    await new Promise((resolve) => { setImmediate(resolve); });
    yield encoder.encode(page.orders.slice(start, start + 500).map((order) => exportRecord(format, order)).join(''));
  }
}
