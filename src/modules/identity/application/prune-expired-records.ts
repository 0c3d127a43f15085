import { windowStart, type ThrottlePolicy } from '../domain/login-throttle.ts';
import type { LoginFailureStore, SessionStore } from './ports.ts';

/** Housekeeping: forgets sign-in failures that no longer count and refresh tokens that expired a day ago or more. */
export class PruneExpiredRecords {
  readonly #failures: LoginFailureStore;
  readonly #sessions: SessionStore;
  readonly #policy: ThrottlePolicy;
  readonly #now: () => Date;

  constructor(deps: { failures: LoginFailureStore; sessions: SessionStore; policy: ThrottlePolicy; now?: () => Date }) {
    this.#failures = deps.failures;
    this.#sessions = deps.sessions;
    this.#policy = deps.policy;
    this.#now = deps.now ?? (() => new Date());
  }

  /** Answers how many records were deleted. */
  async execute(): Promise<number> {
    const now = this.#now();
    // A day's grace keeps a just-expired token recognisable, so reusing it is still reported as such.
    const tokensBefore = new Date(now.getTime() - 24 * 60 * 60 * 1000);
    return await this.#failures.pruneBefore(windowStart(this.#policy, now)) + await this.#sessions.pruneExpiredBefore(tokensBefore);
  }
}
