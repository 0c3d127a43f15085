import type { SecretTokens, SessionStore } from './ports.ts';

/** Ends a session: revokes the family of the presented refresh token. An unknown token changes nothing. */
export class LogOut {
  readonly #sessions: SessionStore;
  readonly #secrets: SecretTokens;
  readonly #now: () => Date;

  constructor(deps: { sessions: SessionStore; secrets: SecretTokens; now?: () => Date }) {
    this.#sessions = deps.sessions;
    this.#secrets = deps.secrets;
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(refreshToken: string): Promise<void> {
    const now = this.#now();
    await this.#sessions.transaction(async (sessions) => {
      const found = await sessions.findForUpdate(this.#secrets.digest(refreshToken));
      if (found === undefined || found.family.revokedAt !== undefined) return;
      await sessions.revokeFamily(found.family.id, now, 'logout');
    });
  }
}
