import { normaliseEmail } from '../domain/email.ts';
import { EmailTakenError } from '../domain/identity.errors.ts';
import type { PasswordHasher, UserRepository } from './ports.ts';
import type { RegisterUser } from './register-user.ts';
import type { SendAccountEmail } from './send-account-email.ts';

/**
 * Registration as the public API offers it, silent about which emails have accounts: a new address
 * gets an account and a verification email; a taken one gets no account, and its owner is told by
 * email that someone tried. Both answer the same, after the same password hashing.
 */
export class SignUp {
  readonly #registerUser: RegisterUser;
  readonly #users: UserRepository;
  readonly #passwords: PasswordHasher;
  readonly #sendAccountEmail: SendAccountEmail;

  constructor(deps: { registerUser: RegisterUser; users: UserRepository; passwords: PasswordHasher; sendAccountEmail: SendAccountEmail }) {
    this.#registerUser = deps.registerUser;
    this.#users = deps.users;
    this.#passwords = deps.passwords;
    this.#sendAccountEmail = deps.sendAccountEmail;
  }

  /** Throws InvalidRegistrationError for a malformed email or a weak password, whether or not the email has an account. */
  async execute(input: { email: string; password: string }): Promise<void> {
    try {
      const user = await this.#registerUser.execute(input);
      await this.#sendAccountEmail.execute(user, 'verify-email');
    } catch (error) {
      if (!(error instanceof EmailTakenError)) throw error;
      // The hashing a new account costs, spent here too, so the answer's timing does not tell.
      await this.#passwords.hash(input.password);
      const owner = await this.#users.findByEmail(normaliseEmail(input.email));
      if (owner !== undefined) await this.#sendAccountEmail.execute(owner, 'registration-notice');
    }
  }
}
