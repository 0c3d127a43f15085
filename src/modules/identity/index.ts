/**
 * The identity module's door for composition roots: its factory, its migrations, and its contract again.
 * Other modules import only its contract.ts, so they never load this factory, its adapters or their SDKs.
 */
import type { BackgroundTask } from '../../platform/background/background-loop.ts';
import type { WorkLimiter, WorkLimits } from '../../platform/concurrency/work-limiter.ts';
import type { Database } from '../../platform/database/database.ts';
import type { EmailTransportSettings } from '../../platform/email/index.ts';
import type { MigrationSet } from '../../platform/database/migrations.ts';
import type { RouteRegistration } from '../../platform/http/app.ts';
import type { Logger } from '../../platform/logging/logger.ts';
import { tracedUseCase } from '../../platform/observability/tracing.ts';
import type { MessageConsumer } from '../../platform/messaging/index.ts';
import { CreateServiceClient } from './application/create-service-client.ts';
import { DisableAccount } from './application/disable-account.ts';
import { EnableAccount } from './application/enable-account.ts';
import { GrantAdmin } from './application/grant-admin.ts';
import { IssueAccessToken, type TokenSettings } from './application/issue-access-token.ts';
import { ListPublishedKeys } from './application/list-published-keys.ts';
import { RegisterUser } from './application/register-user.ts';
import { RevokeUserSessions } from './application/revoke-user-sessions.ts';
import { RewrapSigningKeys } from './application/rewrap-signing-keys.ts';
import { SeedDemoUsers } from './application/seed-demo-users.ts';
import { StartSession } from './application/start-session.ts';
import { AesGcmKeyCipher } from './adapters/crypto/aes-gcm-key-cipher.ts';
import { Argon2PasswordHasher } from './adapters/crypto/argon2-password-hasher.ts';
import { JoseAccessTokenSigner, JoseSigningKeyGenerator } from './adapters/crypto/jose-signing-keys.ts';
import { NodeSecretTokens } from './adapters/crypto/node-secret-tokens.ts';
import { PgLoginThrottleStore } from './adapters/postgres/pg-login-throttle-store.ts';
import { PgServiceClientRepository } from './adapters/postgres/pg-service-client-repository.ts';
import { PgSessionStore } from './adapters/postgres/pg-session-store.ts';
import { PgSigningKeyRepository } from './adapters/postgres/pg-signing-key-repository.ts';
import { PgUserRepository } from './adapters/postgres/pg-user-repository.ts';
import type { Credentials, ExternalIssuer, IdentityRole, ServiceClientCredentials, TokenVerifier } from './contract.ts';
import { AccountNotFoundError, UserNotFoundError } from './domain/identity.errors.ts';
import type { RevocationReason } from './domain/token-revocation.ts';
import { defaultThrottlePolicy, type ThrottlePolicy } from './domain/login-throttle.ts';
import {
  accountEmails, adminActs, builtInTokenVerifier, identityHttpRoutes, maintenanceTasks, signingKeyRotation, tokenRevocations,
} from './identity-wiring.ts';

export * from './contract.ts';
export { identityMessageSchemas } from './adapters/messaging/identity-message-schemas.ts';
export { AccountNotFoundError, UserNotFoundError };
export type { RevocationReason };
export { createRemoteTokenVerifier, followTokenRevocations, type TokenRevocationFollower } from './adapters/tokens/remote-token-verifier.ts';

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

/** What identity is built from: its database, its issuer's settings, and how its keys, sign-ins, revocations and emails behave. */
export interface IdentityModuleDeps {
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
}

/** Wires identity's use cases to PostgreSQL, argon2id and jose. */
export function createIdentityModule(deps: IdentityModuleDeps): IdentityModule {
  const { db, logger } = deps;
  const settings: TokenSettings = {
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

  const revocations = tokenRevocations(deps, settings);
  const { revokeTokens } = revocations;
  const revokeUserSessions = new RevokeUserSessions({ users, sessions, revokeTokens });
  const disableAccount = new DisableAccount({ users, revokeUserSessions });
  const enableAccount = new EnableAccount({ users });

  const listPublishedKeys = new ListPublishedKeys({ keys });
  const verifier = builtInTokenVerifier(deps, settings, revocations.list, listPublishedKeys);
  const issueAccessToken = new IssueAccessToken({ keys, generator, signer: new JoseAccessTokenSigner(), settings });
  const startSession = new StartSession({ secrets, issueAccessToken, refreshTokenTtlDays: deps.refreshTokenTtlDays ?? 30 });
  const registerUser = tracedUseCase('identity.register-user', new RegisterUser({ users, passwords }));
  const emails = accountEmails(deps, secrets);
  const grantAdmin = new GrantAdmin({ users, revokeTokens });
  const rotate = signingKeyRotation({ keys, generator, settings, rotationDays: deps.keyRotationDays ?? 30, verifier, issueAccessToken, logger });

  return {
    routes: identityHttpRoutes({
      users, sessions, throttle, clients, passwords, secrets, revokeTokens, revokeUserSessions, disableAccount, enableAccount,
      issueAccessToken, startSession, registerUser, accountTokens: emails.tokens, sendAccountEmail: emails.send, listPublishedKeys,
    }, settings.issuer),
    consumers: [],
    background: maintenanceTasks({
      intervalMs: deps.maintenanceIntervalMs ?? 60 * 60 * 1000, logger, rotate, throttle, sessions, accountTokens: emails.tokens, revocations,
    }),
    verifier,
    ...adminActs({ users, grantAdmin, revokeUserSessions, disableAccount, enableAccount }),
    close: async () => {
      await revocations.channel?.close();
      // Account emails already asked for still go out (each send is bounded by its timeout).
      await emails.mailer.idle();
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
