import { AccountTokenRefusedError } from '../domain/identity.errors.ts';
import type { AccountTokenStore, LoginThrottleStore, SecretTokens, SessionStore, UserRepository } from './ports.ts';
import type { StartSession, TokenPair } from './start-session.ts';

/**
 * Signs a user in with a one-time link mailed to their address: the token is used up (and the
 * address marked verified), the account's sign-in throttle is forgiven — this is how an owner
 * locked out by someone else's failed guesses gets in — and a token pair is answered as by LogIn.
 */
export class SignInWithLink {
  readonly #tokens: AccountTokenStore;
  readonly #users: UserRepository;
  readonly #throttle: Pick<LoginThrottleStore, 'forgive'>;
  readonly #sessions: SessionStore;
  readonly #startSession: StartSession;
  readonly #secrets: SecretTokens;
  readonly #now: () => Date;

  constructor(deps: {
    tokens: AccountTokenStore; users: UserRepository; throttle: Pick<LoginThrottleStore, 'forgive'>; sessions: SessionStore;
    startSession: StartSession; secrets: SecretTokens; now?: () => Date;
  }) {
    this.#tokens = deps.tokens;
    this.#users = deps.users;
    this.#throttle = deps.throttle;
    this.#sessions = deps.sessions;
    this.#startSession = deps.startSession;
    this.#secrets = deps.secrets;
    this.#now = deps.now ?? (() => new Date());
  }

  /** Throws AccountTokenRefusedError when the token is unknown, used or expired, or its account is disabled. */
  async execute(token: string): Promise<TokenPair> {
    const now = this.#now();
    const userId = await this.#tokens.redeem('sign-in-link', this.#secrets.digest(token), now, (id, account) => account.markEmailVerified(id, now));
    const user = userId === undefined ? undefined : await this.#users.findById(userId);
    if (user === undefined || user.disabledAt !== undefined) throw new AccountTokenRefusedError();
    await this.#throttle.forgive(user.email);
    const refresh = await this.#sessions.transaction((sessions) => this.#startSession.addRefreshToken(sessions, user.id, now));
    return this.#startSession.complete(user, refresh);
  }
}
