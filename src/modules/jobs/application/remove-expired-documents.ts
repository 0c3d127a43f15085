import type { DocumentStore, ExpiredJobDocuments, ExpiredJobs } from './ports.ts';

/** A document that could not be removed in a pass, and why; its job is left for a later pass. */
export interface DocumentRemovalFailure {
  jobId: string;
  documentKey: string;
  error: unknown;
}

/** What one pass did: jobs whose documents are all gone (and marked so), removals made, and what failed. */
export interface DocumentRemovalReport {
  jobs: number;
  documents: number;
  failures: DocumentRemovalFailure[];
}

/** How hard one pass pushes on the documents store. */
export interface DocumentRemovalLimits {
  /** Jobs per batch. Default 100. */
  batchSize?: number;
  /** Batches per pass; the rest waits for the next pass. Default 100. */
  maxBatches?: number;
  /** Pause between two batches. Default 0. */
  pauseMs?: number;
  /** Removals in flight at once. Default 8. */
  concurrency?: number;
  /** A removal not settled by then counts as failed and ends the pass: the store is not answering. Default 30,000. */
  removeTimeoutMs?: number;
}

type Settled = { outcome: 'removed' } | { outcome: 'failed'; error: unknown } | { outcome: 'timed out' } | { outcome: 'stopped' };

/**
 * One retention pass over stored documents: removes the documents of finished jobs past their
 * retention, batch by batch, and marks each job whose documents are all gone, so that retention
 * may then delete its row; never the row first, so no document is ever left without its job. A
 * removal that fails leaves its job unmarked for a later pass (removing again what is already gone
 * succeeds), and the pass goes on without it. A pass ends when nothing is left, after
 * `maxBatches`, after a batch in which no job could be finished, or at once when a removal times
 * out or `signal` aborts: it never waits longer than `removeTimeoutMs` on the store.
 */
export class RemoveExpiredDocuments {
  readonly #expired: ExpiredJobs;
  readonly #documents: DocumentStore;
  readonly #batchSize: number;
  readonly #maxBatches: number;
  readonly #pauseMs: number;
  readonly #concurrency: number;
  readonly #removeTimeoutMs: number;
  readonly #now: () => Date;

  constructor(deps: { expired: ExpiredJobs; documents: DocumentStore; limits?: DocumentRemovalLimits; now?: () => Date }) {
    this.#expired = deps.expired;
    this.#documents = deps.documents;
    this.#batchSize = Math.max(1, deps.limits?.batchSize ?? 100);
    this.#maxBatches = Math.max(1, deps.limits?.maxBatches ?? 100);
    this.#pauseMs = Math.max(0, deps.limits?.pauseMs ?? 0);
    this.#concurrency = Math.max(1, deps.limits?.concurrency ?? 8);
    this.#removeTimeoutMs = Math.max(1, deps.limits?.removeTimeoutMs ?? 30_000);
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(options: { signal?: AbortSignal } = {}): Promise<DocumentRemovalReport> {
    const report: DocumentRemovalReport = { jobs: 0, documents: 0, failures: [] };
    // Jobs that failed in this pass are not taken again by its later batches.
    const failedJobs = new Set<string>();
    for (let batch = 0; batch < this.#maxBatches && options.signal?.aborted !== true; batch += 1) {
      if (batch > 0 && this.#pauseMs > 0) await pause(this.#pauseMs, options.signal);
      const jobs = await this.#expired.withDocuments({ limit: this.#batchSize, except: [...failedJobs] });
      if (jobs.length === 0) break;
      const { removed, halted } = await this.#removeBatch(jobs, report, options.signal);
      for (const failure of report.failures) failedJobs.add(failure.jobId);
      if (removed.length > 0) await this.#expired.markDocumentsRemoved(removed, this.#now());
      report.jobs += removed.length;
      if (halted || removed.length === 0 || jobs.length < this.#batchSize) break;
    }
    return report;
  }

  /** Removes a batch's documents, `concurrency` at a time; answers the jobs whose documents are all gone, and whether the pass must end. */
  async #removeBatch(jobs: readonly ExpiredJobDocuments[], report: DocumentRemovalReport, signal: AbortSignal | undefined): Promise<{ removed: string[]; halted: boolean }> {
    const queue = jobs.flatMap((job) => job.documentKeys.map((documentKey) => ({ jobId: job.jobId, documentKey })));
    const removedOf = new Map<string, number>();
    const failed = new Set<string>();
    let next = 0;
    let halted = false;
    const work = async (): Promise<void> => {
      for (let item = queue[next]; item !== undefined && !halted; item = queue[next]) {
        next += 1;
        if (failed.has(item.jobId)) continue; // one failure is enough to leave the job for a later pass
        const settled = await this.#remove(item.documentKey, signal);
        if (settled.outcome === 'removed') {
          report.documents += 1;
          removedOf.set(item.jobId, (removedOf.get(item.jobId) ?? 0) + 1);
        } else if (settled.outcome === 'stopped') {
          halted = true;
        } else {
          failed.add(item.jobId);
          report.failures.push({ jobId: item.jobId, documentKey: item.documentKey, error: settled.outcome === 'failed' ? settled.error : new Error(`removing the document took longer than ${this.#removeTimeoutMs} ms`) });
          if (settled.outcome === 'timed out') halted = true;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#concurrency, queue.length) }, work));
    const removed = jobs.filter((job) => !failed.has(job.jobId) && (removedOf.get(job.jobId) ?? 0) === job.documentKeys.length).map((job) => job.jobId);
    return { removed, halted };
  }

  /** One removal, waited for at most `removeTimeoutMs` and not past `signal`; one left behind settles on its own. */
  #remove(documentKey: string, signal: AbortSignal | undefined): Promise<Settled> {
    if (signal?.aborted === true) return Promise.resolve({ outcome: 'stopped' });
    return new Promise<Settled>((resolve) => {
      const settle = (settled: Settled): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(settled);
      };
      const onAbort = (): void => { settle({ outcome: 'stopped' }); };
      const timer = setTimeout(() => { settle({ outcome: 'timed out' }); }, this.#removeTimeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#documents.remove(documentKey).then(
        () => { settle({ outcome: 'removed' }); },
        (error: unknown) => { settle({ outcome: 'failed', error }); },
      );
    });
  }
}

/** Waits `ms`, or less when `signal` aborts. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
