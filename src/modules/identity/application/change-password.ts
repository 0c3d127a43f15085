import { AccountDisabledError, AccountNotFoundError, CurrentPasswordIncorrectError, InvalidRegistrationError } from '../domain/identity.errors.ts';
import { checkPasswordPolicy } from '../domain/password-policy.ts';
import type { PasswordHasher, SessionStore, UserRepository } from './ports.ts';
import type { RevokeUserSessions } from './revoke-user-sessions.ts';
import type { StartSession, TokenPair } from './start-session.ts';

/**
 * Changes a signed-in user's password, given the current one. Every session of the user ends (a
 * stolen refresh or access token stops working at once), and the caller gets a fresh pair in a new
 * session, so changing a password does not sign the person who did it out.
 */
export class ChangePassword {
  readonly #users: UserRepository;
  readonly #passwords: PasswordHasher;
  readonly #sessions: SessionStore;
  readonly #revokeUserSessions: RevokeUserSessions;
  readonly #startSession: StartSession;
  readonly #now: () => Date;

  constructor(deps: {
    users: UserRepository; passwords: PasswordHasher; sessions: SessionStore; revokeUserSessions: RevokeUserSessions; startSession: StartSession;
    now?: () => Date;
  }) {
    this.#users = deps.users;
    this.#passwords = deps.passwords;
    this.#sessions = deps.sessions;
    this.#revokeUserSessions = deps.revokeUserSessions;
    this.#startSession = deps.startSession;
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(input: { userId: string; currentPassword: string; newPassword: string }): Promise<TokenPair> {
    const user = await this.#users.findById(input.userId);
    if (user === undefined) throw new AccountNotFoundError(input.userId);
    if (user.disabledAt !== undefined) throw new AccountDisabledError();
    if (!await this.#passwords.verify(user.passwordHash, input.currentPassword)) throw new CurrentPasswordIncorrectError();
    const password = checkPasswordPolicy(input.newPassword);
    if (password === input.currentPassword) throw new InvalidRegistrationError('password', 'must differ from the current one');
    await this.#users.savePasswordHash(user.id, await this.#passwords.hash(password));
    await this.#revokeUserSessions.execute(user.id, 'password-change');
    const refresh = await this.#sessions.transaction((sessions) => this.#startSession.addRefreshToken(sessions, user.id, this.#now()));
    return this.#startSession.complete(user, refresh);
  }
}
