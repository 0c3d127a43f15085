import { JobNotFoundError } from '../domain/job.errors.ts';
import type { Job, RowError } from '../domain/job.ts';
import type { JobRepository } from './ports.ts';

/** Reads one job with its kept row errors. */
export class GetJob {
  readonly #jobs: JobRepository;

  constructor(deps: { jobs: JobRepository }) {
    this.#jobs = deps.jobs;
  }

  async execute(id: string): Promise<{ job: Job; rowErrors: RowError[] }> {
    const job = await this.#jobs.findById(id);
    if (job === undefined) throw new JobNotFoundError(id);
    return { job, rowErrors: job.counts.rejected === 0 ? [] : await this.#jobs.rowErrors(id) };
  }
}
