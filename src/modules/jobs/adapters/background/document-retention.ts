import { BackgroundLoop, type BackgroundTask } from '../../../../platform/background/background-loop.ts';
import type { Logger } from '../../../../platform/logging/logger.ts';
import type { RemoveExpiredDocuments } from '../../application/remove-expired-documents.ts';

/** Failures named one by one in a pass's log line; the rest are counted. */
const failuresNamed = 10;

/**
 * Removes, every `intervalMs`, the stored documents of finished jobs past their retention (a pass of
 * `RemoveExpiredDocuments`), so the `jobs.retention` sweeper may then delete their rows. A removal
 * that failed is logged and its job tried again at a later pass. Stopping ends a pass at once, without
 * waiting for a removal in flight.
 */
export class DocumentRetention implements BackgroundTask {
  readonly name = 'jobs.document-retention';
  readonly #removeExpired: RemoveExpiredDocuments;
  readonly #logger: Logger;
  readonly #loop: BackgroundLoop;
  #stopping = new AbortController();

  constructor(options: { removeExpired: RemoveExpiredDocuments; logger: Logger; intervalMs: number }) {
    this.#removeExpired = options.removeExpired;
    this.#logger = options.logger;
    // Never "work done": a pass already goes on while it finds jobs, up to its batch limit.
    this.#loop = new BackgroundLoop({ name: this.name, intervalMs: options.intervalMs, logger: options.logger, step: async () => { await this.removeOnce(); return 0; } });
  }

  /** One pass; answers the jobs whose documents it removed. */
  async removeOnce(): Promise<number> {
    const report = await this.#removeExpired.execute({ signal: this.#stopping.signal });
    if (report.jobs > 0) this.#logger.debug({ jobs: report.jobs, documents: report.documents }, 'documents of jobs past their retention removed');
    const [first] = report.failures;
    if (first !== undefined) {
      this.#logger.warn({
        err: first.error, failed: report.failures.length,
        documents: report.failures.slice(0, failuresNamed).map((failure) => ({ jobId: failure.jobId, documentKey: failure.documentKey })),
      }, 'stored documents of jobs past their retention could not be removed; their jobs are kept and tried again at the next pass');
    }
    return report.jobs;
  }

  start(): void {
    if (this.#stopping.signal.aborted) this.#stopping = new AbortController();
    this.#loop.start();
  }

  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#loop.stop();
  }
}
