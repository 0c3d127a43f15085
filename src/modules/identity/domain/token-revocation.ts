/**
 * An access token stays valid until it expires unless a revocation names it: a session revocation
 * refuses every token of one sign-in (one refresh-token family, the token's `sid`), a user
 * revocation every token of one account issued before a moment. An entry is only needed while a
 * token it refuses could still be accepted (its lifetime plus the clock skew), so the list holds
 * what the last quarter of an hour revoked, never more.
 */
export type TokenRevocation =
  | { readonly kind: 'session'; readonly sessionId: string; readonly expiresAt: Date }
  | { readonly kind: 'user'; readonly userId: string; readonly issuedBefore: Date; readonly expiresAt: Date };

/** Why tokens were revoked; logged and stored with the entry. */
export type RevocationReason = 'logout' | 'reuse' | 'password-change' | 'role-change' | 'disabled' | 'admin' | 'password-reset';

/** What a token says that a revocation can match: its subject, its session (`sid`) and when it was issued (`iat`, in ms). */
export interface RevocableToken {
  readonly subject: string;
  readonly sessionId: string | undefined;
  readonly issuedAtMs: number | undefined;
}

/** When an entry made at `now` may be forgotten: no token it refuses can be accepted after that. */
export function revocationExpiry(now: Date, accessTokenTtlSeconds: number, clockSkewSeconds: number): Date {
  return new Date(now.getTime() + (accessTokenTtlSeconds + clockSkewSeconds) * 1000);
}

/**
 * The revocations in force, indexed for a lookup per request: a set of session ids and, per user,
 * the latest cut-off. Entries past their expiry are ignored and dropped.
 */
export class RevocationSet {
  readonly #sessions = new Map<string, number>();
  readonly #users = new Map<string, { issuedBeforeMs: number; expiresAtMs: number }>();

  /** Adds an entry; a user's later cut-off replaces an earlier one (it refuses everything the earlier did). */
  add(revocation: TokenRevocation): void {
    const expiresAtMs = revocation.expiresAt.getTime();
    if (revocation.kind === 'session') {
      this.#sessions.set(revocation.sessionId, Math.max(expiresAtMs, this.#sessions.get(revocation.sessionId) ?? 0));
      return;
    }
    const known = this.#users.get(revocation.userId);
    const issuedBeforeMs = revocation.issuedBefore.getTime();
    this.#users.set(revocation.userId, {
      issuedBeforeMs: Math.max(issuedBeforeMs, known?.issuedBeforeMs ?? 0),
      expiresAtMs: Math.max(expiresAtMs, known?.expiresAtMs ?? 0),
    });
  }

  /** Whether `token` is refused at `nowMs`. A user revocation refuses a token that does not say when it was issued. */
  revokes(token: RevocableToken, nowMs: number): boolean {
    if (token.sessionId !== undefined) {
      const until = this.#sessions.get(token.sessionId);
      if (until !== undefined && until > nowMs) return true;
    }
    const user = this.#users.get(token.subject);
    if (user === undefined || user.expiresAtMs <= nowMs) return false;
    return token.issuedAtMs === undefined || token.issuedAtMs < user.issuedBeforeMs;
  }

  /** Drops the entries expired at `nowMs`. */
  prune(nowMs: number): void {
    for (const [id, until] of this.#sessions) if (until <= nowMs) this.#sessions.delete(id);
    for (const [id, entry] of this.#users) if (entry.expiresAtMs <= nowMs) this.#users.delete(id);
  }

  get size(): number {
    return this.#sessions.size + this.#users.size;
  }
}
