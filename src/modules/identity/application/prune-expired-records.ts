import type { LoginThrottleStore, SessionStore } from './ports.ts';

/** Housekeeping: forgets sign-in counters that no longer slow anything down and refresh tokens that expired a day ago or more. */
export class PruneExpiredRecords {
  readonly #throttle: LoginThrottleStore;
  readonly #sessions: SessionStore;
  readonly #now: () => Date;

  constructor(deps: { throttle: LoginThrottleStore; sessions: SessionStore; now?: () => Date }) {
    this.#throttle = deps.throttle;
    this.#sessions = deps.sessions;
    this.#now = deps.now ?? (() => new Date());
  }

  /** Answers how many records were deleted. */
  async execute(): Promise<number> {
    const now = this.#now();
    // A day's grace keeps a just-expired token recognisable, so reusing it is still reported as such.
    const tokensBefore = new Date(now.getTime() - 24 * 60 * 60 * 1000);
    return await this.#throttle.prune(now) + await this.#sessions.pruneExpiredBefore(tokensBefore);
  }
}
