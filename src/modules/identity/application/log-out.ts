import type { SecretTokens, SessionStore } from './ports.ts';
import type { RevokeTokens } from './revoke-tokens.ts';

/**
 * Ends a session: revokes the family of the presented refresh token, and with it the access tokens
 * issued in that session (their `sid`), at once. An unknown or already revoked token changes nothing.
 */
export class LogOut {
  readonly #sessions: SessionStore;
  readonly #secrets: SecretTokens;
  readonly #revokeTokens: RevokeTokens | undefined;
  readonly #now: () => Date;

  constructor(deps: { sessions: SessionStore; secrets: SecretTokens; revokeTokens?: RevokeTokens; now?: () => Date }) {
    this.#sessions = deps.sessions;
    this.#secrets = deps.secrets;
    this.#revokeTokens = deps.revokeTokens;
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(refreshToken: string): Promise<void> {
    const now = this.#now();
    const revoked = await this.#sessions.transaction(async (sessions) => {
      const found = await sessions.findForUpdate(this.#secrets.digest(refreshToken));
      if (found === undefined || found.family.revokedAt !== undefined) return undefined;
      await sessions.revokeFamily(found.family.id, now, 'logout');
      return found.family.id;
    });
    if (revoked !== undefined) await this.#revokeTokens?.session(revoked, 'logout');
  }
}
