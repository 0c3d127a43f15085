import { JobNotFoundError } from '../domain/job.errors.ts';
import { isFinished, type Job } from '../domain/job.ts';
import type { JobRepository } from './ports.ts';

/** What a change of a job is to a follower: its progress moved, its status changed, or it ended (`failed` also for a cancelled job). */
export type JobEventKind = 'progress' | 'state' | 'completed' | 'failed';

/**
 * One change of a job as its follower sees it. `id` only grows: it is the time of the job's own last
 * write (its `updatedAt` in ms), or one more than the previous event's when a write left that time
 * unchanged, so a follower that resumes after `id` is sent only what changed later.
 */
export interface JobEvent {
  readonly id: number;
  readonly kind: JobEventKind;
  readonly job: Job;
}

/**
 * Follows a job by reading its record again and again: the record is written by whichever process
 * runs the job, so a follower in any process sees every checkpoint. Nothing is sent while nothing
 * changed; the events end with the job's terminal one, or when `signal` aborts.
 */
export class FollowJob {
  readonly #jobs: JobRepository;
  readonly #pollMs: number;

  constructor(deps: { jobs: JobRepository; pollMs: number }) {
    this.#jobs = deps.jobs;
    this.#pollMs = deps.pollMs;
  }

  /** The job as it is now; throws JobNotFoundError for an unknown id, so a follow can be refused before it starts. */
  async current(id: string): Promise<Job> {
    const job = await this.#jobs.findById(id);
    if (job === undefined) throw new JobNotFoundError(id);
    return job;
  }

  /** Whether a follower that saw event `lastEventId` has nothing more to receive: the job ended no later than that event. */
  static isSeenToItsEnd(job: Job, lastEventId: number): boolean {
    return isFinished(job.status) && versionOf(job) <= lastEventId;
  }

  /** The job's events after `lastEventId` (0: from its state now), starting from `first` as just read. */
  async *events(first: Job, options: { lastEventId: number; signal: AbortSignal }): AsyncGenerator<JobEvent> {
    let lastId = options.lastEventId;
    let seen: Job | undefined;
    let job: Job | undefined = first;
    while (!options.signal.aborted) {
      if (job === undefined) return;
      const changed = seen === undefined ? versionOf(job) > lastId : snapshotOf(job) !== snapshotOf(seen);
      if (changed) {
        lastId = Math.max(versionOf(job), lastId + 1);
        yield { id: lastId, kind: kindOf(job, seen), job };
      }
      seen = job;
      if (isFinished(job.status)) return;
      if (!(await pause(this.#pollMs, options.signal))) return;
      job = await this.#jobs.findById(first.id);
    }
  }
}

/** Waits `ms`; false at once when `signal` aborts first. */
function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve(false);
      return;
    }
    const aborted = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', aborted);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', aborted, { once: true });
  });
}

function versionOf(job: Job): number {
  return job.updatedAt.getTime();
}

/** What a follower is told of a job; the total is set without touching `updatedAt`, so it is compared too. */
function snapshotOf(job: Job): string {
  const { status, progress, counts } = job;
  return `${status}/${progress.done}/${progress.total ?? ''}/${counts.created}/${counts.updated}/${counts.rejected}`;
}

function kindOf(job: Job, before: Job | undefined): JobEventKind {
  if (job.status === 'succeeded') return 'completed';
  if (job.status === 'failed' || job.status === 'cancelled') return 'failed';
  return before?.status === job.status ? 'progress' : 'state';
}
