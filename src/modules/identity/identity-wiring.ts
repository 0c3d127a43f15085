/**
 * The parts createIdentityModule (index.ts) assembles, one function per concern: token revocations,
 * account emails, the built-in verifier, signing-key rotation, the background upkeep, the HTTP
 * routes and the admin acts by email. Only index.ts imports this file.
 */
import { BackgroundLoop, type BackgroundTask } from '../../platform/background/background-loop.ts';
import type { Database } from '../../platform/database/database.ts';
import { createEmailSender, type EmailTransportSettings } from '../../platform/email/index.ts';
import type { RouteRegistration } from '../../platform/http/app.ts';
import type { Logger } from '../../platform/logging/logger.ts';
import { tracedUseCase } from '../../platform/observability/tracing.ts';
import { ChangePassword } from './application/change-password.ts';
import { CompletePasswordReset } from './application/complete-password-reset.ts';
import type { DisableAccount } from './application/disable-account.ts';
import type { EnableAccount } from './application/enable-account.ts';
import type { GrantAdmin } from './application/grant-admin.ts';
import { IssueServiceToken } from './application/issue-service-token.ts';
import type { IssueAccessToken, TokenSettings } from './application/issue-access-token.ts';
import type { ListPublishedKeys } from './application/list-published-keys.ts';
import { LogIn } from './application/log-in.ts';
import { LogOut } from './application/log-out.ts';
import { PruneExpiredRecords } from './application/prune-expired-records.ts';
import { RefreshSession } from './application/refresh-session.ts';
import type { RegisterUser } from './application/register-user.ts';
import { RequestAccountLink } from './application/request-account-link.ts';
import { RevokeTokens } from './application/revoke-tokens.ts';
import type { RevokeUserSessions } from './application/revoke-user-sessions.ts';
import { RotateSigningKey } from './application/rotate-signing-key.ts';
import { SendAccountEmail } from './application/send-account-email.ts';
import { SignInWithLink } from './application/sign-in-with-link.ts';
import { SignUp } from './application/sign-up.ts';
import type { StartSession } from './application/start-session.ts';
import { VerifyEmail } from './application/verify-email.ts';
import { accountMessageIdDomain, EmailAccountMailer } from './adapters/email/email-account-mailer.ts';
import type { Argon2PasswordHasher } from './adapters/crypto/argon2-password-hasher.ts';
import type { JoseSigningKeyGenerator } from './adapters/crypto/jose-signing-keys.ts';
import type { NodeSecretTokens } from './adapters/crypto/node-secret-tokens.ts';
import { accountSecurityRoutes } from './adapters/http/account-security-routes.ts';
import { identityRoutes } from './adapters/http/identity-routes.ts';
import { PgAccountEmailBudget } from './adapters/postgres/pg-account-email-budget.ts';
import { PgAccountTokenStore } from './adapters/postgres/pg-account-token-store.ts';
import type { PgLoginThrottleStore } from './adapters/postgres/pg-login-throttle-store.ts';
import type { PgServiceClientRepository } from './adapters/postgres/pg-service-client-repository.ts';
import type { PgSessionStore } from './adapters/postgres/pg-session-store.ts';
import type { PgSigningKeyRepository } from './adapters/postgres/pg-signing-key-repository.ts';
import { PgTokenRevocationStore } from './adapters/postgres/pg-token-revocation-store.ts';
import type { PgUserRepository } from './adapters/postgres/pg-user-repository.ts';
import { RedisRevocationChannel } from './adapters/redis/redis-revocation-channel.ts';
import { JoseTokenVerifier } from './adapters/tokens/jose-token-verifier.ts';
import { LiveRevocationList } from './adapters/tokens/live-revocation-list.ts';
import { RevocationUpkeep } from './adapters/tokens/revocation-upkeep.ts';
import type { ExternalIssuer } from './contract.ts';
import { normaliseEmail } from './domain/email.ts';
import { UserNotFoundError } from './domain/identity.errors.ts';
import type { RevocationReason } from './domain/token-revocation.ts';

/** The revocation list in this process's memory, its store, its Redis channel when shared, and the use case that adds to them. */
export interface TokenRevocationParts {
  store: PgTokenRevocationStore;
  list: LiveRevocationList;
  channel: RedisRevocationChannel | undefined;
  refreshMs: number;
  revokeTokens: RevokeTokens;
}

/** Where revocations are kept and announced: identity's database, this process's list and, when shared, Redis for the gateways. */
export function tokenRevocations(
  deps: { db: Database; logger: Logger; revocationSharing?: { redisUrl: string; keyPrefix: string } | undefined; revocationRefreshMs?: number },
  settings: TokenSettings,
): TokenRevocationParts {
  const { logger } = deps;
  const store = new PgTokenRevocationStore(deps.db);
  const refreshMs = deps.revocationRefreshMs ?? 5000;
  const list = new LiveRevocationList({ load: () => store.listActive(new Date()), logger, refreshMs });
  const channel = deps.revocationSharing === undefined
    ? undefined
    : new RedisRevocationChannel({ url: deps.revocationSharing.redisUrl, keyPrefix: deps.revocationSharing.keyPrefix, logger });
  const revokeTokens = new RevokeTokens({
    store,
    announcers: channel === undefined ? [list] : [list, channel],
    accessTokenTtlSeconds: settings.accessTokenTtlSeconds,
    clockSkewSeconds: settings.clockSkewSeconds,
  });
  return { store, list, channel, refreshMs, revokeTokens };
}

/** Verifies the tokens of the built-in issuer, whose keys are read in-process, and of the external issuers. */
export function builtInTokenVerifier(
  deps: { externalIssuers?: readonly ExternalIssuer[]; jwksCooldownMs?: number; tokenCacheSize?: number },
  settings: TokenSettings,
  revocations: LiveRevocationList,
  listPublishedKeys: ListPublishedKeys,
): JoseTokenVerifier {
  return new JoseTokenVerifier({
    revocations,
    builtIn: { issuer: settings.issuer, audience: settings.audience, loadKeys: () => listPublishedKeys.execute() },
    external: deps.externalIssuers ?? [],
    clockSkewSeconds: settings.clockSkewSeconds,
    ...(deps.jwksCooldownMs === undefined ? {} : { jwksCooldownMs: deps.jwksCooldownMs }),
    ...(deps.tokenCacheSize === undefined ? {} : { cacheSize: deps.tokenCacheSize }),
  });
}

/** The emailed tokens, the mailer that sends them, and the use case that spaces them out per account. */
export function accountEmails(
  deps: { db: Database; logger: Logger; accountEmails: { transport: EmailTransportSettings; from: string; linkBaseUrl?: string | undefined; intervalSeconds?: number } },
  secrets: NodeSecretTokens,
): { tokens: PgAccountTokenStore; mailer: EmailAccountMailer; send: SendAccountEmail } {
  const { db, logger } = deps;
  const tokens = new PgAccountTokenStore(db);
  const mailer = new EmailAccountMailer({
    sender: createEmailSender(deps.accountEmails.transport, {
      from: deps.accountEmails.from, messageIdDomain: accountMessageIdDomain, logger,
      // Short: nobody waits for these sends, but a stuck server must not pile them up.
      smtpTimeouts: { connectionMs: 5000, greetingMs: 5000, socketMs: 10_000 },
    }),
    logger, linkBaseUrl: deps.accountEmails.linkBaseUrl,
  });
  const send = new SendAccountEmail({
    tokens, budget: new PgAccountEmailBudget(db), mailer, secrets, intervalSeconds: deps.accountEmails.intervalSeconds ?? 60,
  });
  return { tokens, mailer, send };
}

/**
 * Makes a new signing key current (only when the current one is due, for the schedule), and makes
 * the verifier and the issuer forget the keys they cached. Answers 0, the background loop's "no work done".
 */
export function signingKeyRotation(deps: {
  keys: PgSigningKeyRepository; generator: JoseSigningKeyGenerator; settings: TokenSettings; rotationDays: number;
  verifier: JoseTokenVerifier; issueAccessToken: IssueAccessToken; logger: Logger;
}): (onlyIfDue: boolean) => Promise<number> {
  const rotateSigningKey = new RotateSigningKey({ keys: deps.keys, generator: deps.generator, settings: deps.settings, rotationDays: deps.rotationDays });
  return async (onlyIfDue) => {
    const rotated = await rotateSigningKey.execute({ onlyIfDue });
    if (rotated) {
      deps.verifier.forgetBuiltInKeys();
      deps.issueAccessToken.forgetCurrentKey();
      deps.logger.info({ scheduled: onlyIfDue }, 'identity signing key rotated');
    }
    // Never "work done": one rotation per check is all there is to do.
    return 0;
  };
}

/** The signing-key rotation schedule, the sweeper of expired records and the upkeep of the revocation list. */
export function maintenanceTasks(deps: {
  intervalMs: number; logger: Logger; rotate: (onlyIfDue: boolean) => Promise<number>;
  throttle: PgLoginThrottleStore; sessions: PgSessionStore; accountTokens: PgAccountTokenStore; revocations: TokenRevocationParts;
}): BackgroundTask[] {
  const { intervalMs, logger, revocations } = deps;
  const pruneExpiredRecords = new PruneExpiredRecords({ throttle: deps.throttle, sessions: deps.sessions });
  return [
    new BackgroundLoop({ name: 'identity.signing-key-rotation', intervalMs, logger, step: () => deps.rotate(true) }),
    new BackgroundLoop({ name: 'identity.expiry-sweeper', intervalMs, logger, step: async () => {
      await pruneExpiredRecords.execute();
      await deps.accountTokens.pruneExpiredBefore(new Date());
      return 0;
    } }),
    new RevocationUpkeep({ list: revocations.list, store: revocations.store, channel: revocations.channel, intervalMs: revocations.refreshMs, logger }),
  ];
}

/** What the HTTP use cases are built from: identity's stores, its crypto, and the use cases they call. */
export interface IdentityParts {
  users: PgUserRepository;
  sessions: PgSessionStore;
  throttle: PgLoginThrottleStore;
  clients: PgServiceClientRepository;
  passwords: Argon2PasswordHasher;
  secrets: NodeSecretTokens;
  revokeTokens: RevokeTokens;
  revokeUserSessions: RevokeUserSessions;
  disableAccount: DisableAccount;
  enableAccount: EnableAccount;
  issueAccessToken: IssueAccessToken;
  startSession: StartSession;
  registerUser: RegisterUser;
  accountTokens: PgAccountTokenStore;
  sendAccountEmail: SendAccountEmail;
  listPublishedKeys: ListPublishedKeys;
}

/** Identity's routes: sign-up, sign-in and tokens, then the routes that end sessions. */
export function identityHttpRoutes(parts: IdentityParts, issuer: string): RouteRegistration {
  const { users, sessions, throttle, clients, passwords, secrets, revokeTokens, revokeUserSessions, startSession, accountTokens, sendAccountEmail } = parts;
  const signInRoutes = identityRoutes({
    signUp: tracedUseCase('identity.sign-up', new SignUp({ registerUser: parts.registerUser, users, passwords, sendAccountEmail })),
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
    issueServiceToken: tracedUseCase('identity.issue-service-token', new IssueServiceToken({ clients, secrets, issueAccessToken: parts.issueAccessToken })),
    listPublishedKeys: parts.listPublishedKeys,
  }, { issuer });
  const securityRoutes = accountSecurityRoutes({
    changePassword: tracedUseCase('identity.change-password', new ChangePassword({ users, passwords, sessions, revokeUserSessions, startSession })),
    revokeUserSessions, disableAccount: parts.disableAccount, enableAccount: parts.enableAccount,
  });
  return (app) => { signInRoutes(app); securityRoutes(app); };
}

/** The admin acts the command line takes by email (`orderstream users ...`), and the revocation of a user by id. */
export function adminActs(parts: {
  users: PgUserRepository; grantAdmin: GrantAdmin; revokeUserSessions: RevokeUserSessions; disableAccount: DisableAccount; enableAccount: EnableAccount;
}) {
  const { users, revokeUserSessions } = parts;
  const userByEmail = async (email: string) => {
    const user = await users.findByEmail(normaliseEmail(email));
    if (user === undefined) throw new UserNotFoundError(normaliseEmail(email));
    return user;
  };
  return {
    grantAdmin: (email: string) => parts.grantAdmin.execute(email),
    revokeUser: (userId: string, reason: RevocationReason) => revokeUserSessions.execute(userId, reason),
    revokeSessionsOf: async (email: string) => {
      const user = await userByEmail(email);
      return { id: user.id, email: user.email, ...await revokeUserSessions.execute(user.id, 'admin') };
    },
    disableAccount: async (email: string) => parts.disableAccount.execute((await userByEmail(email)).id),
    enableAccount: async (email: string) => parts.enableAccount.execute((await userByEmail(email)).id),
  };
}
