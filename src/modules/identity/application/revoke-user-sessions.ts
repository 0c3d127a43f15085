import type { RevocationReason } from '../domain/token-revocation.ts';
import { AccountNotFoundError } from '../domain/identity.errors.ts';
import type { SessionStore, UserRepository } from './ports.ts';
import type { RevokeTokens } from './revoke-tokens.ts';

/**
 * Ends every session of a user at once: each refresh-token family not yet revoked is revoked (no
 * refresh works), and every access token issued before now is refused. Tokens issued afterwards (a
 * new sign-in, the pair a password change answers) are accepted. Running it twice is harmless.
 */
export class RevokeUserSessions {
  readonly #users: UserRepository;
  readonly #sessions: SessionStore;
  readonly #revokeTokens: RevokeTokens;
  readonly #now: () => Date;

  constructor(deps: { users: UserRepository; sessions: SessionStore; revokeTokens: RevokeTokens; now?: () => Date }) {
    this.#users = deps.users;
    this.#sessions = deps.sessions;
    this.#revokeTokens = deps.revokeTokens;
    this.#now = deps.now ?? (() => new Date());
  }

  /**
   * Answers how many sessions (refresh-token families) were still open; throws AccountNotFoundError
   * for an unknown id. An admin's revocation (`reason` 'admin') is recorded in the audit trail.
   */
  async execute(userId: string, reason: RevocationReason): Promise<{ sessionsRevoked: number }> {
    if (await this.#users.findById(userId) === undefined) throw new AccountNotFoundError(userId);
    const act = reason === 'admin'
      ? (ids: readonly string[]) => ({ action: 'identity.sessions-revoked', targetId: userId, after: { sessionsRevoked: ids.length } })
      : undefined;
    const revoked = await this.#sessions.transaction((sessions) => sessions.revokeFamiliesOf(userId, this.#now(), reason, act));
    await this.#revokeTokens.user(userId, reason);
    return { sessionsRevoked: revoked.length };
  }
}
