import { normaliseEmail } from '../domain/email.ts';
import type { LoginThrottleStore } from './ports.ts';

/**
 * Lifts every sign-in delay on an account (each (account, address) pair's and the account-wide one)
 * once its owner proved control of the mailbox, e.g. by a one-time sign-in link. An address's own
 * budget (password spraying) stays: it is about the address, not the account.
 */
export class ForgiveSignInFailures {
  readonly #throttle: LoginThrottleStore;

  constructor(deps: { throttle: LoginThrottleStore }) {
    this.#throttle = deps.throttle;
  }

  async execute(email: string): Promise<void> {
    await this.#throttle.forgive(normaliseEmail(email));
  }
}
