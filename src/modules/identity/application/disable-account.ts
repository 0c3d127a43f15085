import { AccountNotFoundError } from '../domain/identity.errors.ts';
import type { User } from '../domain/user.ts';
import type { UserRepository } from './ports.ts';
import type { RevokeUserSessions } from './revoke-user-sessions.ts';

/**
 * Disables an account (an admin's act): it can no longer sign in or refresh, and every session and
 * access token it holds is revoked at once. Disabling a disabled account revokes again and changes
 * nothing else.
 */
export class DisableAccount {
  readonly #users: UserRepository;
  readonly #revokeUserSessions: RevokeUserSessions;
  readonly #now: () => Date;

  constructor(deps: { users: UserRepository; revokeUserSessions: RevokeUserSessions; now?: () => Date }) {
    this.#users = deps.users;
    this.#revokeUserSessions = deps.revokeUserSessions;
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(userId: string): Promise<User> {
    const user = await this.#users.findById(userId);
    if (user === undefined) throw new AccountNotFoundError(userId);
    const disabledAt = user.disabledAt ?? this.#now();
    // Stored first: a sign-in racing this is refused once it reads the account, before tokens are revoked.
    if (user.disabledAt === undefined) {
      await this.#users.saveDisabled(user.id, disabledAt, {
        action: 'identity.account-disabled', targetId: user.id, before: { disabled: false }, after: { disabled: true },
      });
    }
    await this.#revokeUserSessions.execute(user.id, 'disabled');
    return { ...user, disabledAt };
  }
}
