import type { UserRegisteredV1 } from '../contract.ts';
import { validEmail } from '../domain/email.ts';
import { EmailTakenError } from '../domain/identity.errors.ts';
import { checkPasswordPolicy } from '../domain/password-policy.ts';
import { createUser, type User } from '../domain/user.ts';
import type { PasswordHasher, UserRepository } from './ports.ts';

/** Creates a customer account and announces it with `identity.user-registered`. */
export class RegisterUser {
  readonly #users: UserRepository;
  readonly #passwords: PasswordHasher;
  readonly #now: () => Date;

  constructor(deps: { users: UserRepository; passwords: PasswordHasher; now?: () => Date }) {
    this.#users = deps.users;
    this.#passwords = deps.passwords;
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(input: { email: string; password: string }): Promise<User> {
    const email = validEmail(input.email);
    const password = checkPasswordPolicy(input.password);
    // Checked first only to spare the hashing; the unique index still decides a race.
    if (await this.#users.findByEmail(email) !== undefined) throw new EmailTakenError(email);
    const user = createUser({ id: `usr_${crypto.randomUUID()}`, email, passwordHash: await this.#passwords.hash(password) }, this.#now());
    await this.#users.add(user, userRegisteredEvent(user));
    return user;
  }
}

function userRegisteredEvent(user: User): UserRegisteredV1 {
  return { userId: user.id, email: user.email, roles: [...user.roles], registeredAt: user.createdAt.toISOString() };
}
