import { JobNotCancellableError, JobNotFoundError } from '../domain/job.errors.ts';
import { isFinished, type Job } from '../domain/job.ts';
import type { JobRepository, JobSubmitter } from './ports.ts';

/**
 * Cancels a queued or running job. A queued one leaves its queue; a running one stops at its next
 * checkpoint (what it did up to there stays done).
 */
export class CancelJob {
  readonly #jobs: JobRepository;
  readonly #queue: JobSubmitter;
  readonly #now: () => Date;

  constructor(deps: { jobs: JobRepository; queue: JobSubmitter; now?: () => Date }) {
    this.#jobs = deps.jobs;
    this.#queue = deps.queue;
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(id: string): Promise<Job> {
    const before = await this.#jobs.findById(id);
    if (before === undefined) throw new JobNotFoundError(id);
    if (isFinished(before.status)) throw new JobNotCancellableError(id, before.status);
    const job = await this.#jobs.cancel(id, this.#now(), { action: 'jobs.job-cancelled', targetId: id, after: { status: 'cancelled' } });
    if (job === undefined) throw new JobNotFoundError(id);
    if (job.status !== 'cancelled') throw new JobNotCancellableError(id, job.status);
    await this.#queue.withdraw(job);
    return job;
  }
}
