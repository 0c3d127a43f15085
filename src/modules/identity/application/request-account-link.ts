import { normaliseEmail } from '../domain/email.ts';
import type { UserRepository } from './ports.ts';
import type { SendAccountEmail } from './send-account-email.ts';

/**
 * Mails a password-reset token or a one-time sign-in link to an account's address. The caller
 * learns nothing: an unknown email, a disabled account and an address mailed within the interval
 * all end like a sent email, with no error.
 */
export class RequestAccountLink {
  readonly #users: UserRepository;
  readonly #sendAccountEmail: SendAccountEmail;

  constructor(deps: { users: UserRepository; sendAccountEmail: SendAccountEmail }) {
    this.#users = deps.users;
    this.#sendAccountEmail = deps.sendAccountEmail;
  }

  async execute(input: { email: string; purpose: 'password-reset' | 'sign-in-link' }): Promise<void> {
    const user = await this.#users.findByEmail(normaliseEmail(input.email));
    if (user === undefined || user.disabledAt !== undefined) return;
    await this.#sendAccountEmail.execute(user, input.purpose);
  }
}
