/**
 * The identity module's door for composition roots: its factory, its migrations, and its contract again.
 * Other modules import only its contract.ts, so they never load this factory, its adapters or their SDKs.
 */
import { BackgroundLoop, type BackgroundTask } from '../../platform/background/background-loop.ts';
import type { WorkLimiter, WorkLimits } from '../../platform/concurrency/work-limiter.ts';
import type { Database } from '../../platform/database/database.ts';
import { createEmailSender, type EmailTransportSettings } from '../../platform/email/index.ts';
import type { MigrationSet } from '../../platform/database/migrations.ts';
import type { RouteRegistration } from '../../platform/http/app.ts';
import type { Logger } from '../../platform/logging/logger.ts';
import { tracedUseCase } from '../../platform/observability/tracing.ts';
import type { MessageConsumer } from '../../platform/messaging/index.ts';
import { ChangePassword } from './application/change-password.ts';
import { CompletePasswordReset } from './application/complete-password-reset.ts';
import { CreateServiceClient } from './application/create-service-client.ts';
import { DisableAccount } from './application/disable-account.ts';
import { EnableAccount } from './application/enable-account.ts';
import { GrantAdmin } from './application/grant-admin.ts';
import { IssueAccessToken } from './application/issue-access-token.ts';
import { IssueServiceToken } from './application/issue-service-token.ts';
import { ListPublishedKeys } from './application/list-published-keys.ts';
import { LogIn } from './application/log-in.ts';
import { LogOut } from './application/log-out.ts';
import { PruneExpiredRecords } from './application/prune-expired-records.ts';
import { RefreshSession } from './application/refresh-session.ts';
import { RegisterUser } from './application/register-user.ts';
import { RequestAccountLink } from './application/request-account-link.ts';
import { RevokeTokens } from './application/revoke-tokens.ts';
import { RevokeUserSessions } from './application/revoke-user-sessions.ts';
import { RewrapSigningKeys } from './application/rewrap-signing-keys.ts';
import { RotateSigningKey } from './application/rotate-signing-key.ts';
import { SeedDemoUsers } from './application/seed-demo-users.ts';
import { SendAccountEmail } from './application/send-account-email.ts';
import { SignInWithLink } from './application/sign-in-with-link.ts';
import { SignUp } from './application/sign-up.ts';
import { StartSession } from './application/start-session.ts';
import { VerifyEmail } from './application/verify-email.ts';
import { accountMessageIdDomain, EmailAccountMailer } from './adapters/email/email-account-mailer.ts';
import { PgAccountEmailBudget } from './adapters/postgres/pg-account-email-budget.ts';
import { PgAccountTokenStore } from './adapters/postgres/pg-account-token-store.ts';
import { AesGcmKeyCipher } from './adapters/crypto/aes-gcm-key-cipher.ts';
import { Argon2PasswordHasher } from './adapters/crypto/argon2-password-hasher.ts';
import { JoseAccessTokenSigner, JoseSigningKeyGenerator } from './adapters/crypto/jose-signing-keys.ts';
import { NodeSecretTokens } from './adapters/crypto/node-secret-tokens.ts';
import { accountSecurityRoutes } from './adapters/http/account-security-routes.ts';
import { identityRoutes } from './adapters/http/identity-routes.ts';
import { PgTokenRevocationStore } from './adapters/postgres/pg-token-revocation-store.ts';
import { RedisRevocationChannel } from './adapters/redis/redis-revocation-channel.ts';
import { LiveRevocationList, type RevocationCheck } from './adapters/tokens/live-revocation-list.ts';
import { PgLoginThrottleStore } from './adapters/postgres/pg-login-throttle-store.ts';
import { PgServiceClientRepository } from './adapters/postgres/pg-service-client-repository.ts';
import { PgSessionStore } from './adapters/postgres/pg-session-store.ts';
import { PgSigningKeyRepository } from './adapters/postgres/pg-signing-key-repository.ts';
import { PgUserRepository } from './adapters/postgres/pg-user-repository.ts';
import type { JWK } from 'jose';
import { JoseTokenVerifier } from './adapters/tokens/jose-token-verifier.ts';
import type { Credentials, ExternalIssuer, IdentityRole, ServiceClientCredentials, TokenVerifier } from './contract.ts';
import { normaliseEmail } from './domain/email.ts';
import { AccountNotFoundError, UserNotFoundError } from './domain/identity.errors.ts';
import type { RevocationReason } from './domain/token-revocation.ts';
import { defaultThrottlePolicy, type ThrottlePolicy } from './domain/login-throttle.ts';

export * from './contract.ts';
export { AccountNotFoundError, UserNotFoundError };
export type { RevocationReason };

export const identityMigrations: MigrationSet = {
  module: 'identity',
  schema: 'identity',
  directory: new URL('./adapters/postgres/migrations/', import.meta.url),
};

export interface IdentityModule {
  routes: RouteRegistration;
  /** Identity consumes no messages. */
  consumers: MessageConsumer[];
  /** The signing-key rotation schedule and the housekeeping sweeper. */
  background: BackgroundTask[];
  /** Verifies bearer tokens of the built-in issuer and of the configured external issuers (for the gateway). */
  verifier: TokenVerifier;
  /**
   * Makes an existing account an admin (`orderstream users grant-admin EMAIL`); throws UserNotFoundError for an unknown email.
   * The account's older access tokens are refused at once, so its next token (after a refresh) carries the role.
   */
  grantAdmin: (email: string) => Promise<{ id: string; email: string; roles: readonly IdentityRole[] }>;
  /**
   * Ends every session of a user at once: every refresh-token family revoked, every access token issued
   * before now refused at every edge. Throws AccountNotFoundError for an unknown id. Harmless twice.
   */
  revokeUser: (userId: string, reason: RevocationReason) => Promise<{ sessionsRevoked: number }>;
  /** `orderstream users revoke-sessions|disable|enable EMAIL`: the admin acts by email; throw UserNotFoundError for an unknown email. */
  revokeSessionsOf: (email: string) => Promise<{ id: string; email: string; sessionsRevoked: number }>;
  disableAccount: (email: string) => Promise<{ id: string; email: string; disabledAt?: Date | undefined }>;
  enableAccount: (email: string) => Promise<{ id: string; email: string; disabledAt?: Date | undefined }>;
  /** Closes what the module holds open besides the database (the Redis connections of shared revocations). */
  close: () => Promise<void>;
  /** Creates the demo admin and customer unless they exist, and answers their credentials (`orderstream seed`). */
  seedDemoUsers: () => Promise<{ admin: Credentials; customer: Credentials }>;
  /** Registers a service client; the secret is in this answer only. */
  createServiceClient: (name: string) => Promise<ServiceClientCredentials>;
  /** Makes a new signing key current now; the previous one stays published until its tokens expire. */
  rotateSigningKey: () => Promise<void>;
  /** Re-encrypts every stored signing key under the current key-encryption key (`orderstream keys rewrap`); answers how many were under the previous one. */
  rewrapSigningKeys: () => Promise<{ rewrapped: number; total: number }>;
  /** What bounds this module's expensive work (password hashing), for metrics. */
  workLimiters: readonly WorkLimiter[];
}

/** Wires identity's use cases to PostgreSQL, argon2id and jose. */
export function createIdentityModule(deps: {
  db: Database;
  logger: Logger;
  /** `iss` of the tokens this module signs, and the base of its discovery URLs (e.g. `https://api.orderstream.dev`). */
  issuer: string;
  /** `aud` of the tokens this module signs and requires. */
  audience: string;
  /** 900 (15 minutes) by default. */
  accessTokenTtlSeconds?: number;
  /** 30 by default. */
  refreshTokenTtlDays?: number;
  /** 32 random bytes in base64; encrypts the signing keys' private halves at rest. A secret. */
  keyEncryptionKey: string;
  /** While the key-encryption key is rotated: the one it replaces, still used to decrypt until a rewrap. A secret. */
  previousKeyEncryptionKey?: string | undefined;
  /** A signing key older than this is replaced by the schedule; 30 by default. */
  keyRotationDays?: number;
  /** External OpenID issuers whose tokens are trusted too; none by default. */
  externalIssuers?: readonly ExternalIssuer[];
  /** Leeway for `exp` and `nbf`; 30 by default. */
  clockSkewSeconds?: number;
  /**
   * How sign-in attempts are slowed down (docs/security.md, *Sign-in throttling*); fields not given keep
   * `defaultThrottlePolicy`'s values: after 5 failures of one account from one address a delay from 1 s
   * doubling to 15 minutes, 100 failures an hour per address, an account-wide delay up to 60 s.
   */
  loginThrottle?: Partial<ThrottlePolicy>;
  /** How often the rotation schedule and the sweeper look for work; one hour by default. */
  maintenanceIntervalMs?: number;
  /** Least time between two fetches of an external JWKS caused by an unknown key id; 30 s by default. */
  jwksCooldownMs?: number;
  /** Verified tokens remembered (for a minute at most); 0 checks each signature every time. 10,000 by default. */
  tokenCacheSize?: number;
  /** Password hashes at once, waiting, and the longest wait before a 503; one per core, 64 and 2 s by default. */
  passwordHashing?: Partial<WorkLimits>;
  /**
   * Redis through which token revocations reach the gateways (REDIS_URL, REDIS_KEY_PREFIX); none in a
   * single process without Redis, whose edge shares this module's memory.
   */
  revocationSharing?: { redisUrl: string; keyPrefix: string } | undefined;
  /** How often the revocation list is read again in full (and copied to Redis); 5 s by default. */
  revocationRefreshMs?: number;
  /**
   * How account emails (verification, password reset, sign-in link, registration notice) leave: the
   * email transport and sender (EMAIL_*), the shop pages their links open (none: the emails give the
   * token and the API route), and the least seconds between two of one kind to one account (60 by default).
   */
  accountEmails: { transport: EmailTransportSettings; from: string; linkBaseUrl?: string | undefined; intervalSeconds?: number };
}): IdentityModule {
  const { db, logger } = deps;
  const settings = {
    issuer: deps.issuer,
    audience: deps.audience,
    accessTokenTtlSeconds: deps.accessTokenTtlSeconds ?? 900,
    clockSkewSeconds: deps.clockSkewSeconds ?? 30,
  };
  const throttlePolicy: ThrottlePolicy = { ...defaultThrottlePolicy, ...deps.loginThrottle };
  const users = new PgUserRepository(db);
  const sessions = new PgSessionStore(db);
  const throttle = new PgLoginThrottleStore(db, throttlePolicy);
  const keys = new PgSigningKeyRepository(db, new AesGcmKeyCipher(deps.keyEncryptionKey, deps.previousKeyEncryptionKey));
  const clients = new PgServiceClientRepository(db);
  const passwords = new Argon2PasswordHasher({ limits: deps.passwordHashing });
  const secrets = new NodeSecretTokens();
  const generator = new JoseSigningKeyGenerator();

  const revocationStore = new PgTokenRevocationStore(db);
  const revocationRefreshMs = deps.revocationRefreshMs ?? 5000;
  const revocationList = new LiveRevocationList({ load: () => revocationStore.listActive(new Date()), logger, refreshMs: revocationRefreshMs });
  const revocationChannel = deps.revocationSharing === undefined
    ? undefined
    : new RedisRevocationChannel({ url: deps.revocationSharing.redisUrl, keyPrefix: deps.revocationSharing.keyPrefix, logger });
  const revokeTokens = new RevokeTokens({
    store: revocationStore,
    announcers: revocationChannel === undefined ? [revocationList] : [revocationList, revocationChannel],
    accessTokenTtlSeconds: settings.accessTokenTtlSeconds,
    clockSkewSeconds: settings.clockSkewSeconds,
  });
  const revokeUserSessions = new RevokeUserSessions({ users, sessions, revokeTokens });
  const disableAccount = new DisableAccount({ users, revokeUserSessions });
  const enableAccount = new EnableAccount({ users });
  const userByEmail = async (email: string) => {
    const user = await users.findByEmail(normaliseEmail(email));
    if (user === undefined) throw new UserNotFoundError(normaliseEmail(email));
    return user;
  };

  const listPublishedKeys = new ListPublishedKeys({ keys });
  const verifier = new JoseTokenVerifier({
    revocations: revocationList,
    builtIn: { issuer: settings.issuer, audience: settings.audience, loadKeys: () => listPublishedKeys.execute() },
    external: deps.externalIssuers ?? [],
    clockSkewSeconds: settings.clockSkewSeconds,
    ...(deps.jwksCooldownMs === undefined ? {} : { jwksCooldownMs: deps.jwksCooldownMs }),
    ...(deps.tokenCacheSize === undefined ? {} : { cacheSize: deps.tokenCacheSize }),
  });
  const issueAccessToken = new IssueAccessToken({ keys, generator, signer: new JoseAccessTokenSigner(), settings });
  const startSession = new StartSession({ secrets, issueAccessToken, refreshTokenTtlDays: deps.refreshTokenTtlDays ?? 30 });
  const registerUser = tracedUseCase('identity.register-user', new RegisterUser({ users, passwords }));
  const accountTokens = new PgAccountTokenStore(db);
  const accountMailer = new EmailAccountMailer({
    sender: createEmailSender(deps.accountEmails.transport, {
      from: deps.accountEmails.from, messageIdDomain: accountMessageIdDomain, logger,
      // Short: nobody waits for these sends, but a stuck server must not pile them up.
      smtpTimeouts: { connectionMs: 5000, greetingMs: 5000, socketMs: 10_000 },
    }),
    logger, linkBaseUrl: deps.accountEmails.linkBaseUrl,
  });
  const sendAccountEmail = new SendAccountEmail({
    tokens: accountTokens, budget: new PgAccountEmailBudget(db), mailer: accountMailer, secrets, intervalSeconds: deps.accountEmails.intervalSeconds ?? 60,
  });
  const grantAdmin = new GrantAdmin({ users, revokeTokens });
  const rotateSigningKey = new RotateSigningKey({ keys, generator, settings, rotationDays: deps.keyRotationDays ?? 30 });
  const pruneExpiredRecords = new PruneExpiredRecords({ throttle, sessions });
  const intervalMs = deps.maintenanceIntervalMs ?? 60 * 60 * 1000;

  const rotate = async (onlyIfDue: boolean): Promise<number> => {
    const rotated = await rotateSigningKey.execute({ onlyIfDue });
    if (rotated) {
      verifier.forgetBuiltInKeys();
      issueAccessToken.forgetCurrentKey();
      logger.info({ scheduled: onlyIfDue }, 'identity signing key rotated');
    }
    // Never "work done": one rotation per check is all there is to do.
    return 0;
  };

  return {
    routes: bothRoutes(identityRoutes({
      signUp: tracedUseCase('identity.sign-up', new SignUp({ registerUser, users, passwords, sendAccountEmail })),
      verifyEmail: tracedUseCase('identity.verify-email', new VerifyEmail({ tokens: accountTokens, secrets })),
      requestAccountLink: tracedUseCase('identity.request-account-link', new RequestAccountLink({ users, sendAccountEmail })),
      completePasswordReset: tracedUseCase('identity.complete-password-reset', new CompletePasswordReset({
        tokens: accountTokens, passwords, secrets, revokeUserSessions,
      })),
      signInWithLink: tracedUseCase('identity.sign-in-with-link', new SignInWithLink({
        tokens: accountTokens, users, throttle, sessions, startSession, secrets,
      })),
      logIn: tracedUseCase('identity.log-in', new LogIn({ users, passwords, throttle, sessions, startSession })),
      refreshSession: tracedUseCase('identity.refresh-session', new RefreshSession({ sessions, users, secrets, startSession, revokeTokens })),
      logOut: tracedUseCase('identity.log-out', new LogOut({ sessions, secrets, revokeTokens })),
      issueServiceToken: tracedUseCase('identity.issue-service-token', new IssueServiceToken({ clients, secrets, issueAccessToken })),
      listPublishedKeys,
    }, { issuer: settings.issuer }), accountSecurityRoutes({
      changePassword: tracedUseCase('identity.change-password', new ChangePassword({ users, passwords, sessions, revokeUserSessions, startSession })),
      revokeUserSessions, disableAccount, enableAccount,
    })),
    consumers: [],
    background: [
      new BackgroundLoop({ name: 'identity.signing-key-rotation', intervalMs, logger, step: () => rotate(true) }),
      new BackgroundLoop({ name: 'identity.expiry-sweeper', intervalMs, logger, step: async () => {
        await pruneExpiredRecords.execute();
        await accountTokens.pruneExpiredBefore(new Date());
        return 0;
      } }),
      new RevocationUpkeep({ list: revocationList, store: revocationStore, channel: revocationChannel, intervalMs: revocationRefreshMs, logger }),
    ],
    verifier,
    grantAdmin: (email) => grantAdmin.execute(email),
    revokeUser: (userId, reason) => revokeUserSessions.execute(userId, reason),
    revokeSessionsOf: async (email) => {
      const user = await userByEmail(email);
      return { id: user.id, email: user.email, ...await revokeUserSessions.execute(user.id, 'admin') };
    },
    disableAccount: async (email) => disableAccount.execute((await userByEmail(email)).id),
    enableAccount: async (email) => enableAccount.execute((await userByEmail(email)).id),
    close: async () => {
      await revocationChannel?.close();
      // Account emails already asked for still go out (each send is bounded by its timeout).
      await accountMailer.idle();
    },
    seedDemoUsers: () => new SeedDemoUsers({ users, registerUser, grantAdmin }).execute(),
    createServiceClient: (name) => new CreateServiceClient({ clients, secrets }).execute(name),
    rotateSigningKey: async () => { await rotate(false); },
    rewrapSigningKeys: async () => {
      const result = await new RewrapSigningKeys({ keys }).execute();
      logger.info(result, 'identity signing keys re-encrypted under the current key-encryption key');
      return result;
    },
    workLimiters: [passwords.limiter],
  };
}

function bothRoutes(first: RouteRegistration, second: RouteRegistration): RouteRegistration {
  return (app) => { first(app); second(app); };
}

/**
 * Keeps the revocation list current in the background: reads identity's database every
 * `intervalMs` (so another process's revocation is enforced here within that time), copies the
 * entries in force to Redis when revocations are shared (so an entry whose write to Redis failed
 * reaches the gateways once Redis is back), listens to Redis's announcements, and prunes expired rows.
 */
class RevocationUpkeep implements BackgroundTask {
  readonly name = 'identity.token-revocations';
  readonly #loop: BackgroundLoop;
  readonly #channel: RedisRevocationChannel | undefined;
  readonly #list: LiveRevocationList;
  readonly #logger: Logger;

  constructor(deps: { list: LiveRevocationList; store: PgTokenRevocationStore; channel: RedisRevocationChannel | undefined; intervalMs: number; logger: Logger }) {
    this.#channel = deps.channel;
    this.#list = deps.list;
    this.#logger = deps.logger;
    this.#loop = new BackgroundLoop({
      name: this.name, intervalMs: deps.intervalMs, logger: deps.logger,
      step: async () => {
        const now = new Date();
        await deps.list.refresh();
        await deps.store.pruneExpiredBefore(now);
        await deps.channel?.mirror(await deps.store.listActive(now));
        return 0;
      },
    });
  }

  start(): void {
    this.#channel?.subscribe((revocation) => { void this.#list.announce(revocation); })
      .catch((error: unknown) => { this.#logger.warn({ err: error }, 'token revocation announcements could not be subscribed to; the list is read again every few seconds'); });
    this.#loop.start();
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }
}

/**
 * A verifier for a process without identity's database (the gateway in the services shape): the
 * built-in issuer's keys come from `loadKeys` (its JWKS, fetched from the identity service) and are
 * fetched again when a token names a key id not seen yet.
 */
export function createRemoteTokenVerifier(deps: {
  issuer: string;
  audience: string;
  loadKeys: () => Promise<readonly JWK[]>;
  externalIssuers?: readonly ExternalIssuer[];
  clockSkewSeconds?: number;
  /** Verified tokens remembered (for a minute at most); 10,000 by default. */
  tokenCacheSize?: number;
  /** The revocations identity shares through Redis (followTokenRevocations), checked on every verification. */
  revocations?: TokenRevocationFollower;
}): TokenVerifier {
  return new JoseTokenVerifier({
    ...(deps.revocations === undefined ? {} : { revocations: deps.revocations.list }),
    builtIn: { issuer: deps.issuer, audience: deps.audience, loadKeys: deps.loadKeys },
    external: deps.externalIssuers ?? [],
    clockSkewSeconds: deps.clockSkewSeconds ?? 30,
    ...(deps.tokenCacheSize === undefined ? {} : { cacheSize: deps.tokenCacheSize }),
  });
}

/** A gateway's copy of the token revocations identity shares through Redis. */
export interface TokenRevocationFollower {
  /** The in-memory list the verifier checks on every request. */
  readonly list: RevocationCheck;
  /** Loads the list, listens to new entries and reads the list again every few seconds. */
  start(): Promise<void>;
  /** Whether Redis answers (for readiness). */
  isReachable(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Follows the revocations identity writes to Redis (`<prefix>token-revocations`): loaded at start,
 * updated from each announcement, and read again in full every `refreshMs` (5 s by default), so an
 * announcement missed while Redis or the connection was down is enforced within that time after.
 * While Redis cannot be read, the entries already known stay enforced (decision 0016).
 */
export function followTokenRevocations(deps: { redisUrl: string; keyPrefix: string; logger: Logger; refreshMs?: number }): TokenRevocationFollower {
  const refreshMs = deps.refreshMs ?? 5000;
  const channel = new RedisRevocationChannel({ url: deps.redisUrl, keyPrefix: deps.keyPrefix, logger: deps.logger });
  const list = new LiveRevocationList({ load: () => channel.load(), logger: deps.logger, refreshMs });
  let timer: NodeJS.Timeout | undefined;
  return {
    list,
    async start() {
      await channel.subscribe((revocation) => { void list.announce(revocation); })
        .catch((error: unknown) => { deps.logger.warn({ err: error }, 'token revocation announcements could not be subscribed to; the list is read again every few seconds'); });
      await list.refresh();
      timer ??= setInterval(() => { void list.refresh(); }, refreshMs);
      timer.unref();
    },
    isReachable: () => channel.isReachable(),
    async close() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      await channel.close();
    },
  };
}
