import { OverloadedError } from './overloaded.ts';

/** How much of one kind of expensive work may run and wait at once. */
export interface WorkLimits {
  /** Tasks running at once (at least 1). */
  concurrency: number;
  /** Tasks waiting for a slot; one more is refused at once. `Infinity`: no bound (the callers bound it). */
  maxQueued: number;
  /** Longest a task waits for a slot before it is refused. `Infinity`: no bound. */
  maxWaitMs: number;
}

/** A limiter's counters as metrics read them. */
export interface WorkLimiterStats {
  resource: string;
  concurrency: number;
  running: number;
  queued: number;
  /** Tasks refused since the limiter was made (queue full or waited too long). */
  refusedTotal: number;
}

interface Waiter {
  grant: (release: () => void) => void;
  timer: NodeJS.Timeout | undefined;
}

/** The largest delay `setTimeout` keeps; a longer one fires at once. */
const maxTimerMs = 2 ** 31 - 1;

/**
 * Bounds one kind of expensive work (password hashing, PDF rendering) so that a burst of it cannot
 * take every core and starve cheap requests: at most `concurrency` tasks run, at most `maxQueued`
 * wait, in arrival order, and none waits longer than `maxWaitMs`. A task that cannot be queued or
 * waited too long is refused with `OverloadedError` and never runs; HTTP answers it 503 with Retry-After.
 *
 * @example
 * const hashing = new WorkLimiter({ resource: 'password hashing', concurrency: 2, maxQueued: 64, maxWaitMs: 2000 });
 * const digest = await hashing.run(() => hash(password));
 */
export class WorkLimiter {
  /** What is limited, named in refusals and metrics (`password hashing`). */
  readonly resource: string;
  readonly #limits: WorkLimits;
  readonly #retryAfterSeconds: number;
  /** Waiting tasks in arrival order; a Set so that one that gives up leaves in constant time. */
  readonly #waiting = new Set<Waiter>();
  #running = 0;
  #refusedTotal = 0;

  constructor(options: WorkLimits & { resource: string; retryAfterSeconds?: number }) {
    const { concurrency, maxQueued, maxWaitMs } = options;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`${options.resource}: concurrency must be a whole number of at least 1, not ${String(concurrency)}`);
    if (!(Number.isInteger(maxQueued) || maxQueued === Infinity) || maxQueued < 0) {
      throw new RangeError(`${options.resource}: maxQueued must be a whole number of at least 0 or Infinity, not ${String(maxQueued)}`);
    }
    if (!(maxWaitMs > 0 && (maxWaitMs <= maxTimerMs || maxWaitMs === Infinity))) {
      throw new RangeError(`${options.resource}: maxWaitMs must be above 0 and at most ${String(maxTimerMs)}, or Infinity, not ${String(maxWaitMs)}`);
    }
    this.resource = options.resource;
    this.#limits = { concurrency, maxQueued, maxWaitMs };
    this.#retryAfterSeconds = options.retryAfterSeconds ?? 1;
  }

  /** Runs `task` once a slot is free and answers its result; throws `OverloadedError` (and never runs it) when refused. */
  async run<T>(task: () => Promise<T> | T): Promise<T> {
    const release = await this.acquire();
    try {
      return await task();
    } finally {
      release();
    }
  }

  /**
   * Waits for a slot and answers the function that frees it (calling it again does nothing), for
   * work that outlives one call (a stream read by someone else); `run` is simpler everywhere else.
   */
  acquire(): Promise<() => void> {
    if (this.#running < this.#limits.concurrency && this.#waiting.size === 0) {
      this.#running += 1;
      return Promise.resolve(this.#releaser());
    }
    if (this.#waiting.size >= this.#limits.maxQueued) {
      return Promise.reject(this.#refuse(`${String(this.#waiting.size)} tasks are already waiting`));
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { grant: resolve, timer: undefined };
      if (this.#limits.maxWaitMs !== Infinity) {
        waiter.timer = setTimeout(() => {
          this.#waiting.delete(waiter);
          reject(this.#refuse(`no slot became free within ${String(this.#limits.maxWaitMs)} ms`));
        }, this.#limits.maxWaitMs);
        // A deadline alone does not keep the process alive.
        waiter.timer.unref();
      }
      this.#waiting.add(waiter);
    });
  }

  /** Counters for metrics. */
  stats(): WorkLimiterStats {
    return {
      resource: this.resource, concurrency: this.#limits.concurrency,
      running: this.#running, queued: this.#waiting.size, refusedTotal: this.#refusedTotal,
    };
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#running -= 1;
      this.#handOver();
    };
  }

  /** Gives free slots to the longest-waiting tasks; counted as running at once, so no newcomer takes the slot first. */
  #handOver(): void {
    for (const waiter of this.#waiting) {
      if (this.#running >= this.#limits.concurrency) return;
      this.#waiting.delete(waiter);
      clearTimeout(waiter.timer);
      this.#running += 1;
      waiter.grant(this.#releaser());
    }
  }

  #refuse(reason: string): OverloadedError {
    this.#refusedTotal += 1;
    return new OverloadedError(this.resource, `${this.resource} is at capacity: ${reason}`, { retryAfterSeconds: this.#retryAfterSeconds });
  }
}
