/**
 * The identity module's only public door: its factory, its migrations and its contract.
 * Other modules and the composition roots import from here and nowhere else in the module.
 */
import { BackgroundLoop, type BackgroundTask } from '../../platform/background/background-loop.ts';
import type { WorkLimiter, WorkLimits } from '../../platform/concurrency/work-limiter.ts';
import type { Database } from '../../platform/database/database.ts';
import type { MigrationSet } from '../../platform/database/migrations.ts';
import type { RouteRegistration } from '../../platform/http/app.ts';
import type { Logger } from '../../platform/logging/logger.ts';
import { tracedUseCase } from '../../platform/observability/tracing.ts';
import type { MessageConsumer } from '../../platform/messaging/index.ts';
import { CreateServiceClient } from './application/create-service-client.ts';
import { GrantAdmin } from './application/grant-admin.ts';
import { IssueAccessToken } from './application/issue-access-token.ts';
import { IssueServiceToken } from './application/issue-service-token.ts';
import { ListPublishedKeys } from './application/list-published-keys.ts';
import { LogIn } from './application/log-in.ts';
import { LogOut } from './application/log-out.ts';
import { PruneExpiredRecords } from './application/prune-expired-records.ts';
import { RefreshSession } from './application/refresh-session.ts';
import { RegisterUser } from './application/register-user.ts';
import { RotateSigningKey } from './application/rotate-signing-key.ts';
import { SeedDemoUsers } from './application/seed-demo-users.ts';
import { StartSession } from './application/start-session.ts';
import { AesGcmKeyCipher } from './adapters/crypto/aes-gcm-key-cipher.ts';
import { Argon2PasswordHasher } from './adapters/crypto/argon2-password-hasher.ts';
import { JoseAccessTokenSigner, JoseSigningKeyGenerator } from './adapters/crypto/jose-signing-keys.ts';
import { NodeSecretTokens } from './adapters/crypto/node-secret-tokens.ts';
import { identityRoutes } from './adapters/http/identity-routes.ts';
import { PgLoginFailureStore } from './adapters/postgres/pg-login-failure-store.ts';
import { PgServiceClientRepository } from './adapters/postgres/pg-service-client-repository.ts';
import { PgSessionStore } from './adapters/postgres/pg-session-store.ts';
import { PgSigningKeyRepository } from './adapters/postgres/pg-signing-key-repository.ts';
import { PgUserRepository } from './adapters/postgres/pg-user-repository.ts';
import type { JWK } from 'jose';
import { JoseTokenVerifier } from './adapters/tokens/jose-token-verifier.ts';
import type { Credentials, ExternalIssuer, IdentityRole, ServiceClientCredentials, TokenVerifier } from './contract.ts';
import { UserNotFoundError } from './domain/identity.errors.ts';
import { defaultThrottlePolicy, type ThrottlePolicy } from './domain/login-throttle.ts';

export * from './contract.ts';
export { UserNotFoundError };

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
  /** Makes an existing account an admin (`orderstream users grant-admin EMAIL`); throws UserNotFoundError for an unknown email. */
  grantAdmin: (email: string) => Promise<{ id: string; email: string; roles: readonly IdentityRole[] }>;
  /** Creates the demo admin and customer unless they exist, and answers their credentials (`orderstream seed`). */
  seedDemoUsers: () => Promise<{ admin: Credentials; customer: Credentials }>;
  /** Registers a service client; the secret is in this answer only. */
  createServiceClient: (name: string) => Promise<ServiceClientCredentials>;
  /** Makes a new signing key current now; the previous one stays published until its tokens expire. */
  rotateSigningKey: () => Promise<void>;
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
  /** A signing key older than this is replaced by the schedule; 30 by default. */
  keyRotationDays?: number;
  /** External OpenID issuers whose tokens are trusted too; none by default. */
  externalIssuers?: readonly ExternalIssuer[];
  /** Leeway for `exp` and `nbf`; 30 by default. */
  clockSkewSeconds?: number;
  /** Failed sign-ins allowed per account and per address within the window; 5 per 15 minutes by default. */
  loginThrottle?: ThrottlePolicy;
  /** How often the rotation schedule and the sweeper look for work; one hour by default. */
  maintenanceIntervalMs?: number;
  /** Least time between two fetches of an external JWKS caused by an unknown key id; 30 s by default. */
  jwksCooldownMs?: number;
  /** Verified tokens remembered (for a minute at most); 0 checks each signature every time. 10,000 by default. */
  tokenCacheSize?: number;
  /** Password hashes at once, waiting, and the longest wait before a 503; one per core, 64 and 2 s by default. */
  passwordHashing?: Partial<WorkLimits>;
}): IdentityModule {
  const { db, logger } = deps;
  const settings = {
    issuer: deps.issuer,
    audience: deps.audience,
    accessTokenTtlSeconds: deps.accessTokenTtlSeconds ?? 900,
    clockSkewSeconds: deps.clockSkewSeconds ?? 30,
  };
  const policy = deps.loginThrottle ?? defaultThrottlePolicy;
  const users = new PgUserRepository(db);
  const sessions = new PgSessionStore(db);
  const failures = new PgLoginFailureStore(db);
  const keys = new PgSigningKeyRepository(db, new AesGcmKeyCipher(deps.keyEncryptionKey));
  const clients = new PgServiceClientRepository(db);
  const passwords = new Argon2PasswordHasher({ limits: deps.passwordHashing });
  const secrets = new NodeSecretTokens();
  const generator = new JoseSigningKeyGenerator();

  const listPublishedKeys = new ListPublishedKeys({ keys });
  const verifier = new JoseTokenVerifier({
    builtIn: { issuer: settings.issuer, audience: settings.audience, loadKeys: () => listPublishedKeys.execute() },
    external: deps.externalIssuers ?? [],
    clockSkewSeconds: settings.clockSkewSeconds,
    ...(deps.jwksCooldownMs === undefined ? {} : { jwksCooldownMs: deps.jwksCooldownMs }),
    ...(deps.tokenCacheSize === undefined ? {} : { cacheSize: deps.tokenCacheSize }),
  });
  const issueAccessToken = new IssueAccessToken({ keys, generator, signer: new JoseAccessTokenSigner(), settings });
  const startSession = new StartSession({ secrets, issueAccessToken, refreshTokenTtlDays: deps.refreshTokenTtlDays ?? 30 });
  const registerUser = tracedUseCase('identity.register-user', new RegisterUser({ users, passwords }));
  const grantAdmin = new GrantAdmin({ users });
  const rotateSigningKey = new RotateSigningKey({ keys, generator, settings, rotationDays: deps.keyRotationDays ?? 30 });
  const pruneExpiredRecords = new PruneExpiredRecords({ failures, sessions, policy });
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
    routes: identityRoutes({
      registerUser,
      logIn: tracedUseCase('identity.log-in', new LogIn({ users, passwords, failures, sessions, startSession, policy })),
      refreshSession: tracedUseCase('identity.refresh-session', new RefreshSession({ sessions, users, secrets, startSession })),
      logOut: tracedUseCase('identity.log-out', new LogOut({ sessions, secrets })),
      issueServiceToken: tracedUseCase('identity.issue-service-token', new IssueServiceToken({ clients, secrets, issueAccessToken })),
      listPublishedKeys,
    }, { issuer: settings.issuer }),
    consumers: [],
    background: [
      new BackgroundLoop({ name: 'identity.signing-key-rotation', intervalMs, logger, step: () => rotate(true) }),
      new BackgroundLoop({ name: 'identity.expiry-sweeper', intervalMs, logger, step: async () => { await pruneExpiredRecords.execute(); return 0; } }),
    ],
    verifier,
    grantAdmin: (email) => grantAdmin.execute(email),
    seedDemoUsers: () => new SeedDemoUsers({ users, registerUser, grantAdmin }).execute(),
    createServiceClient: (name) => new CreateServiceClient({ clients, secrets }).execute(name),
    rotateSigningKey: async () => { await rotate(false); },
    workLimiters: [passwords.limiter],
  };
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
}): TokenVerifier {
  return new JoseTokenVerifier({
    builtIn: { issuer: deps.issuer, audience: deps.audience, loadKeys: deps.loadKeys },
    external: deps.externalIssuers ?? [],
    clockSkewSeconds: deps.clockSkewSeconds ?? 30,
    ...(deps.tokenCacheSize === undefined ? {} : { cacheSize: deps.tokenCacheSize }),
  });
}
