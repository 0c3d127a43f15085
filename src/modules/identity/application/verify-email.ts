import { AccountTokenRefusedError } from '../domain/identity.errors.ts';
import type { AccountTokenStore, SecretTokens } from './ports.ts';

/** Marks an account's address as verified with the token mailed to it; the token is used up. */
export class VerifyEmail {
  readonly #tokens: AccountTokenStore;
  readonly #secrets: SecretTokens;
  readonly #now: () => Date;

  constructor(deps: { tokens: AccountTokenStore; secrets: SecretTokens; now?: () => Date }) {
    this.#tokens = deps.tokens;
    this.#secrets = deps.secrets;
    this.#now = deps.now ?? (() => new Date());
  }

  /** Throws AccountTokenRefusedError when the token is unknown, used or expired. */
  async execute(token: string): Promise<void> {
    const now = this.#now();
    const userId = await this.#tokens.redeem('verify-email', this.#secrets.digest(token), now, (id, account) => account.markEmailVerified(id, now));
    if (userId === undefined) throw new AccountTokenRefusedError();
  }
}
