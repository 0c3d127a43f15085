import { revocationExpiry, type RevocationReason, type TokenRevocation } from '../domain/token-revocation.ts';
import type { RevocationAnnouncer, TokenRevocationStore } from './ports.ts';

/**
 * Refuses access tokens before they expire, from now on: every token of one session, or every token
 * of one user issued before now. The entry is stored first (so a restart keeps it), then announced
 * to this process's list and the other processes'; an announcement that fails is logged by its
 * announcer and caught up by the lists' periodic re-read of the store.
 */
export class RevokeTokens {
  readonly #store: TokenRevocationStore;
  readonly #announcers: readonly RevocationAnnouncer[];
  readonly #accessTokenTtlSeconds: number;
  readonly #clockSkewSeconds: number;
  readonly #now: () => Date;

  constructor(deps: {
    store: TokenRevocationStore; announcers: readonly RevocationAnnouncer[]; accessTokenTtlSeconds: number; clockSkewSeconds: number; now?: () => Date;
  }) {
    this.#store = deps.store;
    this.#announcers = deps.announcers;
    this.#accessTokenTtlSeconds = deps.accessTokenTtlSeconds;
    this.#clockSkewSeconds = deps.clockSkewSeconds;
    this.#now = deps.now ?? (() => new Date());
  }

  /** Refuses every access token whose `sid` is `sessionId` (a refresh-token family). */
  async session(sessionId: string, reason: RevocationReason): Promise<void> {
    const now = this.#now();
    await this.#record({ kind: 'session', sessionId, expiresAt: this.#expiry(now) }, reason, now);
  }

  /** Refuses every access token of `userId` issued before now; tokens issued afterwards are accepted. */
  async user(userId: string, reason: RevocationReason): Promise<void> {
    const now = this.#now();
    await this.#record({ kind: 'user', userId, issuedBefore: now, expiresAt: this.#expiry(now) }, reason, now);
  }

  #expiry(now: Date): Date {
    return revocationExpiry(now, this.#accessTokenTtlSeconds, this.#clockSkewSeconds);
  }

  async #record(revocation: TokenRevocation, reason: RevocationReason, now: Date): Promise<void> {
    await this.#store.add(revocation, reason, now);
    await Promise.all(this.#announcers.map((announcer) => announcer.announce(revocation)));
  }
}
