import { normaliseEmail } from '../domain/email.ts';
import { UserNotFoundError } from '../domain/identity.errors.ts';
import { grantRole, type User } from '../domain/user.ts';
import type { UserRepository } from './ports.ts';

/** Makes an existing account an admin (from the operator's CLI); granting it twice changes nothing. Takes effect at the next token. */
export class GrantAdmin {
  readonly #users: UserRepository;

  constructor(deps: { users: UserRepository }) {
    this.#users = deps.users;
  }

  async execute(rawEmail: string): Promise<User> {
    const email = normaliseEmail(rawEmail);
    const user = await this.#users.findByEmail(email);
    if (user === undefined) throw new UserNotFoundError(email);
    const granted = grantRole(user, 'admin');
    if (granted !== user) await this.#users.saveRoles(granted);
    return granted;
  }
}
