import type { AccountEmailKind } from '../domain/account-email.ts';
import { newAccountToken } from '../domain/account-token.ts';
import type { User } from '../domain/user.ts';
import type { AccountEmailBudget, AccountMailer, AccountTokenStore, SecretTokens } from './ports.ts';

/**
 * Sends one account email (a notice, or a fresh single-use token) to an account's address, at most
 * one of each kind per interval, so nobody can flood an address through identity's routes. A token
 * is stored (replacing the previous one of its purpose) before it is mailed, and mailed only once
 * stored; the send itself happens after the caller's answer. Shared by the use cases that mail.
 */
export class SendAccountEmail {
  readonly #tokens: AccountTokenStore;
  readonly #budget: AccountEmailBudget;
  readonly #mailer: AccountMailer;
  readonly #secrets: SecretTokens;
  readonly #intervalMs: number;
  readonly #now: () => Date;

  constructor(deps: {
    tokens: AccountTokenStore; budget: AccountEmailBudget; mailer: AccountMailer; secrets: SecretTokens; intervalSeconds: number; now?: () => Date;
  }) {
    this.#tokens = deps.tokens;
    this.#budget = deps.budget;
    this.#mailer = deps.mailer;
    this.#secrets = deps.secrets;
    this.#intervalMs = deps.intervalSeconds * 1000;
    this.#now = deps.now ?? (() => new Date());
  }

  /** Answers whether the email went out; false when one of this kind was sent to the account within the interval. */
  async execute(user: Pick<User, 'id' | 'email'>, kind: AccountEmailKind): Promise<boolean> {
    const now = this.#now();
    if (!await this.#budget.take(user.id, kind, now, new Date(now.getTime() - this.#intervalMs))) return false;
    if (kind === 'registration-notice') {
      this.#mailer.send({ kind, to: user.email });
      return true;
    }
    const token = this.#secrets.generate();
    const stored = newAccountToken({ tokenHash: this.#secrets.digest(token), purpose: kind, userId: user.id }, now);
    await this.#tokens.replace(stored);
    this.#mailer.send({ kind, to: user.email, token, expiresAt: stored.expiresAt });
    return true;
  }
}
