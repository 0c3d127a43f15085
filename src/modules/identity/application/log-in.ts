import { normaliseEmail } from '../domain/email.ts';
import { AccountDisabledError, InvalidCredentialsError, LoginThrottledError } from '../domain/identity.errors.ts';
import { addressKey, type SignInAttempt } from '../domain/login-throttle.ts';
import type { LoginThrottleStore, PasswordHasher, SessionStore, UserRepository } from './ports.ts';
import type { StartSession, TokenPair } from './start-session.ts';

/**
 * Signs a user in with email and password. Counts the attempt against the sign-in budgets before any
 * hashing, in one step (a refused attempt costs no hashing, and concurrent attempts cannot slip past
 * a budget together), and spends the same hashing work whether or not the account exists, so neither
 * timing nor the answer tells which emails have accounts.
 */
export class LogIn {
  readonly #users: UserRepository;
  readonly #passwords: PasswordHasher;
  readonly #throttle: LoginThrottleStore;
  readonly #sessions: SessionStore;
  readonly #startSession: StartSession;
  readonly #now: () => Date;

  constructor(deps: {
    users: UserRepository; passwords: PasswordHasher; throttle: LoginThrottleStore; sessions: SessionStore;
    startSession: StartSession; now?: () => Date;
  }) {
    this.#users = deps.users;
    this.#passwords = deps.passwords;
    this.#throttle = deps.throttle;
    this.#sessions = deps.sessions;
    this.#startSession = deps.startSession;
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(input: { email: string; password: string; clientAddress: string | undefined }): Promise<TokenPair> {
    const email = normaliseEmail(input.email);
    // Keyed by the email tried, not the account, so unknown emails are throttled alike and tell nothing.
    const attempt: SignInAttempt = { account: email, address: addressKey(input.clientAddress ?? 'unknown') };
    const now = this.#now();
    const reservation = await this.#throttle.reserve(attempt, now);
    if (!('attempt' in reservation)) throw new LoginThrottledError(reservation.retryAfterSeconds);

    let user: Awaited<ReturnType<UserRepository['findByEmail']>>;
    let valid: boolean;
    try {
      user = await this.#users.findByEmail(email);
      valid = user === undefined
        ? await this.#passwords.verifyDummy(input.password).then(() => false)
        : await this.#passwords.verify(user.passwordHash, input.password);
    } catch (error) {
      // No verdict on the password (hashing overloaded, a fault): the attempt is given back. If even
      // that fails, the attempt merely stays counted as a failure.
      await this.#throttle.release(reservation).catch(() => undefined);
      throw error;
    }
    // The attempt is already counted as a failure.
    if (user === undefined || !valid) throw new InvalidCredentialsError();
    // Told only to who knows the password; the attempt stays counted as a failure.
    if (user.disabledAt !== undefined) throw new AccountDisabledError();
    await this.#throttle.succeed(reservation);
    const refreshToken = await this.#sessions.transaction((sessions) => this.#startSession.addRefreshToken(sessions, user.id, now));
    return this.#startSession.complete(user, refreshToken);
  }
}
