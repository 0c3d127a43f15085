import { normaliseEmail } from '../domain/email.ts';
import { InvalidCredentialsError, LoginThrottledError } from '../domain/identity.errors.ts';
import { retryAfterSeconds, windowStart, type ThrottlePolicy, type ThrottleSubject } from '../domain/login-throttle.ts';
import type { LoginFailureStore, PasswordHasher, SessionStore, UserRepository } from './ports.ts';
import type { StartSession, TokenPair } from './start-session.ts';

/**
 * Signs a user in with email and password. Refuses while the account or the client address has too
 * many recent failures (before any hashing), and spends the same hashing work whether or not the
 * account exists, so neither timing nor the answer tells which emails have accounts.
 */
export class LogIn {
  readonly #users: UserRepository;
  readonly #passwords: PasswordHasher;
  readonly #failures: LoginFailureStore;
  readonly #sessions: SessionStore;
  readonly #startSession: StartSession;
  readonly #policy: ThrottlePolicy;
  readonly #now: () => Date;

  constructor(deps: {
    users: UserRepository; passwords: PasswordHasher; failures: LoginFailureStore; sessions: SessionStore;
    startSession: StartSession; policy: ThrottlePolicy; now?: () => Date;
  }) {
    this.#users = deps.users;
    this.#passwords = deps.passwords;
    this.#failures = deps.failures;
    this.#sessions = deps.sessions;
    this.#startSession = deps.startSession;
    this.#policy = deps.policy;
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(input: { email: string; password: string; clientAddress: string | undefined }): Promise<TokenPair> {
    const email = normaliseEmail(input.email);
    const account: ThrottleSubject = { kind: 'email', value: email };
    const subjects: ThrottleSubject[] = input.clientAddress === undefined ? [account] : [account, { kind: 'ip', value: input.clientAddress }];
    const now = this.#now();
    const wait = retryAfterSeconds(await this.#failures.countSince(subjects, windowStart(this.#policy, now)), this.#policy, now);
    if (wait > 0) throw new LoginThrottledError(wait);

    const user = await this.#users.findByEmail(email);
    const valid = user === undefined
      ? await this.#passwords.verifyDummy(input.password).then(() => false)
      : await this.#passwords.verify(user.passwordHash, input.password);
    if (user === undefined || !valid) {
      await this.#failures.record(subjects, now);
      throw new InvalidCredentialsError();
    }
    await this.#failures.clear(account);
    const refreshToken = await this.#sessions.transaction((sessions) => this.#startSession.addRefreshToken(sessions, user.id, now));
    return this.#startSession.complete(user, refreshToken);
  }
}
