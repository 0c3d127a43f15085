import { RefreshTokenRefusedError, type RefreshRefusal } from '../domain/identity.errors.ts';
import { decideRefresh } from '../domain/refresh-session.ts';
import type { SecretTokens, SessionStore, UserRepository } from './ports.ts';
import type { RevokeTokens } from './revoke-tokens.ts';
import type { NewRefreshToken, StartSession, TokenPair } from './start-session.ts';

/**
 * Trades a refresh token for a new pair. The token is used up; presenting it again revokes its whole
 * family (someone else holds a copy), and that revocation commits even though the request fails.
 */
export class RefreshSession {
  readonly #sessions: SessionStore;
  readonly #users: UserRepository;
  readonly #secrets: SecretTokens;
  readonly #startSession: StartSession;
  readonly #revokeTokens: RevokeTokens | undefined;
  readonly #now: () => Date;

  constructor(deps: {
    sessions: SessionStore; users: UserRepository; secrets: SecretTokens; startSession: StartSession; revokeTokens?: RevokeTokens; now?: () => Date;
  }) {
    this.#revokeTokens = deps.revokeTokens;
    this.#sessions = deps.sessions;
    this.#users = deps.users;
    this.#secrets = deps.secrets;
    this.#startSession = deps.startSession;
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(refreshToken: string): Promise<TokenPair> {
    const now = this.#now();
    const outcome = await this.#sessions.transaction(async (sessions): Promise<{ refused: RefreshRefusal; revokedFamily?: string } | { userId: string; next: NewRefreshToken }> => {
      const found = await sessions.findForUpdate(this.#secrets.digest(refreshToken));
      const decision = decideRefresh(found?.token, found?.family, now);
      if (decision.outcome === 'refuse') {
        if (decision.revokeFamily && found !== undefined) {
          await sessions.revokeFamily(found.family.id, now, 'reuse');
          return { refused: decision.refusal, revokedFamily: found.family.id };
        }
        return { refused: decision.refusal };
      }
      if (found === undefined) throw new Error('a refresh was allowed without a token');
      await sessions.markUsed(found.token.tokenHash, now);
      return { userId: found.family.userId, next: await this.#startSession.addRefreshToken(sessions, found.family.userId, now, found.family.id) };
    });
    if ('refused' in outcome) {
      // The family's access tokens are refused too, at once: one of them may be in a thief's hands.
      if (outcome.revokedFamily !== undefined) await this.#revokeTokens?.session(outcome.revokedFamily, 'reuse');
      throw new RefreshTokenRefusedError(outcome.refused);
    }
    // Read after the session transaction, which must not wait for a second connection. An account gone
    // (or disabled) in between gets no access token; the refresh token left behind is refused next time.
    const user = await this.#users.findById(outcome.userId);
    if (user === undefined || user.disabledAt !== undefined) throw new RefreshTokenRefusedError(user === undefined ? 'unknown' : 'revoked');
    return this.#startSession.complete(user, outcome.next);
  }
}
