import { AccountNotFoundError } from '../domain/identity.errors.ts';
import type { User } from '../domain/user.ts';
import type { UserRepository } from './ports.ts';

/** Enables a disabled account again (an admin's act): it may sign in; nothing revoked comes back. */
export class EnableAccount {
  readonly #users: UserRepository;

  constructor(deps: { users: UserRepository }) {
    this.#users = deps.users;
  }

  async execute(userId: string): Promise<User> {
    const user = await this.#users.findById(userId);
    if (user === undefined) throw new AccountNotFoundError(userId);
    if (user.disabledAt !== undefined) {
      await this.#users.saveDisabled(user.id, undefined, {
        action: 'identity.account-enabled', targetId: user.id, before: { disabled: true }, after: { disabled: false },
      });
    }
    return { ...user, disabledAt: undefined };
  }
}
