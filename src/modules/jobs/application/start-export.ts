import { newJob, type Job } from '../domain/job.ts';
import type { ExportFilter, ExportFormat } from '../domain/order-export.ts';
import type { JobSubmitter } from './ports.ts';

/**
 * Queues an order export: a job of kind `order-export` whose input is the format, the filter and
 * the instant of the request, so the file holds the orders placed before it however long it takes.
 */
export class StartExport {
  readonly #jobs: JobSubmitter;
  readonly #newId: () => string;
  readonly #now: () => Date;

  constructor(deps: { jobs: JobSubmitter; newId?: () => string; now?: () => Date }) {
    this.#jobs = deps.jobs;
    this.#newId = deps.newId ?? (() => `job_${crypto.randomUUID()}`);
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(input: { format: ExportFormat; filter: ExportFilter; requestId: string | null }): Promise<Job> {
    const now = this.#now();
    const request = { format: input.format, filter: { ...input.filter }, placedBefore: now.toISOString() };
    const job = newJob({ id: this.#newId(), kind: 'order-export', requestId: input.requestId, input: request, now });
    await this.#jobs.submit(job, { action: 'jobs.export-started', targetId: job.id, after: { kind: job.kind, ...request } });
    return job;
  }
}
