import type { JobCursor, JobPage, JobRepository } from './ports.ts';

/** Lists jobs newest first, one page at a time after a position. */
export class ListJobs {
  readonly #jobs: JobRepository;

  constructor(deps: { jobs: JobRepository }) {
    this.#jobs = deps.jobs;
  }

  execute(input: { after?: JobCursor; limit: number }): Promise<JobPage> {
    return this.#jobs.list(input);
  }
}
