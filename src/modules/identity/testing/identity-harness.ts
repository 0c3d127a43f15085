import { CreateServiceClient } from '../application/create-service-client.ts';
import { GrantAdmin } from '../application/grant-admin.ts';
import { IssueAccessToken } from '../application/issue-access-token.ts';
import { IssueServiceToken } from '../application/issue-service-token.ts';
import { ListPublishedKeys } from '../application/list-published-keys.ts';
import { LogIn } from '../application/log-in.ts';
import { LogOut } from '../application/log-out.ts';
import { RefreshSession } from '../application/refresh-session.ts';
import { RegisterUser } from '../application/register-user.ts';
import { RotateSigningKey } from '../application/rotate-signing-key.ts';
import { SeedDemoUsers } from '../application/seed-demo-users.ts';
import { StartSession } from '../application/start-session.ts';
import { defaultThrottlePolicy, type ThrottlePolicy } from '../domain/login-throttle.ts';
import {
  FakeAccessTokenSigner, FakePasswordHasher, FakeSecretTokens, FakeSigningKeyGenerator,
  InMemoryServiceClientRepository, InMemorySessionStore, InMemorySigningKeyRepository, InMemoryUserRepository,
} from './in-memory-identity.ts';
import { InMemoryLoginThrottleStore } from './in-memory-login-throttle-store.ts';

/** Every identity use case wired to in-memory adapters and one clock a test moves with `advance(ms)`. */
export function identityHarness(options: { policy?: ThrottlePolicy; accessTokenTtlSeconds?: number } = {}) {
  let nowMs = Date.UTC(2026, 0, 1);
  const now = () => new Date(nowMs);
  const users = new InMemoryUserRepository();
  const passwords = new FakePasswordHasher();
  const sessions = new InMemorySessionStore();
  const keys = new InMemorySigningKeyRepository();
  const clients = new InMemoryServiceClientRepository();
  const secrets = new FakeSecretTokens();
  const generator = new FakeSigningKeyGenerator();
  const settings = { issuer: 'https://id.test', audience: 'orderstream', accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 900, clockSkewSeconds: 30 };
  const throttle = new InMemoryLoginThrottleStore(options.policy ?? defaultThrottlePolicy);
  const issueAccessToken = new IssueAccessToken({ keys, generator, signer: new FakeAccessTokenSigner(), settings, now });
  const startSession = new StartSession({ secrets, issueAccessToken, refreshTokenTtlDays: 30 });
  const registerUser = new RegisterUser({ users, passwords, now });
  const grantAdmin = new GrantAdmin({ users });
  return {
    users, passwords, throttle, sessions, keys, clients, settings,
    advance: (ms: number) => { nowMs += ms; },
    now,
    registerUser,
    grantAdmin,
    logIn: new LogIn({ users, passwords, throttle, sessions, startSession, now }),
    refreshSession: new RefreshSession({ sessions, users, secrets, startSession, now }),
    logOut: new LogOut({ sessions, secrets, now }),
    rotateSigningKey: new RotateSigningKey({ keys, generator, settings, rotationDays: 30, now }),
    listPublishedKeys: new ListPublishedKeys({ keys, now }),
    seedDemoUsers: new SeedDemoUsers({ users, registerUser, grantAdmin }),
    createServiceClient: new CreateServiceClient({ clients, secrets, now }),
    issueServiceToken: new IssueServiceToken({ clients, secrets, issueAccessToken }),
  };
}

/** Reads what a FakeAccessTokenSigner token says. */
export function claimsOf(accessToken: string): { subject: string; roles: string[]; email?: string; kid: string; expiresAt: string } {
  return JSON.parse(accessToken) as { subject: string; roles: string[]; email?: string; kid: string; expiresAt: string };
}
