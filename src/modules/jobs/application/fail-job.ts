import { describeFailure } from './describe-failure.ts';
import type { JobRepository } from './ports.ts';

/**
 * Marks a job failed when its queue gave up on it (the dead-letter queue), e.g. after a worker was
 * killed during its last attempt and so could not say so itself. A job that ended already stays as it is.
 */
export class FailJob {
  readonly #jobs: JobRepository;
  readonly #now: () => Date;

  constructor(deps: { jobs: JobRepository; now?: () => Date }) {
    this.#jobs = deps.jobs;
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(jobId: string, cause: unknown): Promise<void> {
    const job = await this.#jobs.findById(jobId);
    const reason = job?.lastError ?? describeFailure(cause);
    await this.#jobs.finish(jobId, { status: 'failed', reason: `gave up after the last attempt: ${reason}` }, this.#now());
  }
}
