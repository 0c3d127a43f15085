import { AccountTokenRefusedError } from '../domain/identity.errors.ts';
import { checkPasswordPolicy } from '../domain/password-policy.ts';
import type { AccountTokenStore, PasswordHasher, SecretTokens } from './ports.ts';
import type { RevokeUserSessions } from './revoke-user-sessions.ts';

/**
 * Sets a new password with the token mailed by a reset request. The token is used up in the same
 * transaction that stores the password (and marks the address verified: the owner read the mail),
 * then every session of the account is ended, so whoever knew the old password is signed out.
 */
export class CompletePasswordReset {
  readonly #tokens: AccountTokenStore;
  readonly #passwords: PasswordHasher;
  readonly #secrets: SecretTokens;
  readonly #revokeUserSessions: Pick<RevokeUserSessions, 'execute'>;
  readonly #now: () => Date;

  constructor(deps: {
    tokens: AccountTokenStore; passwords: PasswordHasher; secrets: SecretTokens; revokeUserSessions: Pick<RevokeUserSessions, 'execute'>; now?: () => Date;
  }) {
    this.#tokens = deps.tokens;
    this.#passwords = deps.passwords;
    this.#secrets = deps.secrets;
    this.#revokeUserSessions = deps.revokeUserSessions;
    this.#now = deps.now ?? (() => new Date());
  }

  /** Throws InvalidRegistrationError for a weak password, AccountTokenRefusedError for an unknown, used or expired token. */
  async execute(input: { token: string; newPassword: string }): Promise<void> {
    const password = checkPasswordPolicy(input.newPassword);
    const tokenHash = this.#secrets.digest(input.token);
    // Looked at first so a wrong token costs no password hashing; redeeming below still decides a race.
    if (await this.#tokens.findLive('password-reset', tokenHash, this.#now()) === undefined) throw new AccountTokenRefusedError();
    const passwordHash = await this.#passwords.hash(password);
    const now = this.#now();
    const userId = await this.#tokens.redeem('password-reset', tokenHash, now, async (id, account) => {
      await account.savePasswordHash(id, passwordHash);
      await account.markEmailVerified(id, now);
    });
    if (userId === undefined) throw new AccountTokenRefusedError();
    await this.#revokeUserSessions.execute(userId, 'password-reset');
  }
}
