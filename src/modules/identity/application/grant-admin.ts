import { normaliseEmail } from '../domain/email.ts';
import { UserNotFoundError } from '../domain/identity.errors.ts';
import { grantRole, type User } from '../domain/user.ts';
import type { UserRepository } from './ports.ts';
import type { RevokeTokens } from './revoke-tokens.ts';

/**
 * Makes an existing account an admin (from the operator's CLI); granting it twice changes nothing.
 * Takes effect at the next token: the account's older access tokens are refused at once.
 */
export class GrantAdmin {
  readonly #users: UserRepository;
  readonly #revokeTokens: RevokeTokens | undefined;

  constructor(deps: { users: UserRepository; revokeTokens?: RevokeTokens }) {
    this.#users = deps.users;
    this.#revokeTokens = deps.revokeTokens;
  }

  async execute(rawEmail: string): Promise<User> {
    const email = normaliseEmail(rawEmail);
    const user = await this.#users.findByEmail(email);
    if (user === undefined) throw new UserNotFoundError(email);
    const granted = grantRole(user, 'admin');
    if (granted !== user) {
      await this.#users.saveRoles(granted, { action: 'identity.admin-granted', targetId: user.id, before: { roles: user.roles }, after: { roles: granted.roles } });
      // Tokens issued before carry the old roles: refused from now on, so the next one (after a refresh) has the new role.
      await this.#revokeTokens?.user(user.id, 'role-change');
    }
    return granted;
  }
}
