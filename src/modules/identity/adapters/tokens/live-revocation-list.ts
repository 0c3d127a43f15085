import type { Logger } from '../../../../platform/logging/logger.ts';
import type { RevocationAnnouncer } from '../../application/ports.ts';
import { RevocationSet, type RevocableToken, type TokenRevocation } from '../../domain/token-revocation.ts';

/** Answers whether a verified token has been revoked since it was issued; checked on every request. */
export interface RevocationCheck {
  /** Synchronous once the list is loaded, so the per-request check costs a map lookup and no round trip. */
  revokes(token: RevocableToken): boolean | Promise<boolean>;
}

/**
 * The revocations in force, in this process's memory: loaded from `load` (identity's database, or
 * Redis in a gateway) before the first check, told of each new entry as it is made (`announce`),
 * and read again in full every `refreshMs` as a safety net, so an announcement this process missed
 * is enforced within that time. Entries are only ever added (nothing un-revokes a token) and are
 * forgotten when they expire, so a re-read merges instead of replacing.
 *
 * When a re-read fails the list keeps enforcing what it knows and tries again after `refreshMs`
 * (fail open for new entries, see decision 0016); the first load of a process that cannot reach
 * its source is retried on each check at most once per `retryMs`.
 */
export class LiveRevocationList implements RevocationCheck, RevocationAnnouncer {
  readonly #set = new RevocationSet();
  readonly #load: () => Promise<readonly TokenRevocation[]>;
  readonly #refreshMs: number;
  readonly #retryMs: number;
  readonly #logger: Logger;
  readonly #now: () => number;
  #loadedAt: number | undefined;
  #attemptedAt = Number.NEGATIVE_INFINITY;
  #loading: Promise<void> | undefined;
  #warnedAt = Number.NEGATIVE_INFINITY;

  constructor(options: {
    load: () => Promise<readonly TokenRevocation[]>;
    logger: Logger;
    /** How often the whole list is read again; 5 s by default. */
    refreshMs?: number;
    /** Least time between two attempts while loads fail; 1 s by default. */
    retryMs?: number;
    now?: () => number;
  }) {
    this.#load = options.load;
    this.#logger = options.logger;
    this.#refreshMs = options.refreshMs ?? 5000;
    this.#retryMs = Math.min(options.retryMs ?? 1000, this.#refreshMs);
    this.#now = options.now ?? Date.now;
  }

  revokes(token: RevocableToken): boolean | Promise<boolean> {
    const now = this.#now();
    if (this.#loadedAt === undefined) {
      // Before the first load nothing is known: wait for it (once it has failed, not longer than one attempt).
      if (now - this.#attemptedAt >= this.#retryMs) return this.refresh().then(() => this.#set.revokes(token, this.#now()));
    } else if (now - this.#loadedAt >= this.#refreshMs && now - this.#attemptedAt >= this.#retryMs) {
      void this.refresh();
    }
    return this.#set.revokes(token, now);
  }

  /** Enforces a new entry at once. */
  announce(revocation: TokenRevocation): Promise<void> {
    this.#set.add(revocation);
    return Promise.resolve();
  }

  /** Reads the whole list from its source now (one read at a time); never throws. */
  refresh(): Promise<void> {
    this.#loading ??= this.#reload().finally(() => { this.#loading = undefined; });
    return this.#loading;
  }

  /** Entries held now (sessions and users), for tests and metrics. */
  get size(): number {
    return this.#set.size;
  }

  async #reload(): Promise<void> {
    const started = this.#now();
    this.#attemptedAt = started;
    try {
      const loaded = await this.#load();
      for (const revocation of loaded) this.#set.add(revocation);
      this.#set.prune(this.#now());
      this.#loadedAt = started;
    } catch (error) {
      if (started - this.#warnedAt >= 10_000) {
        this.#warnedAt = started;
        this.#logger.warn({ err: error, lastLoadedAt: this.#loadedAt === undefined ? null : new Date(this.#loadedAt).toISOString() },
          'token revocations could not be read; the revocations known so far are still enforced');
      }
    }
  }
}
