import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createLogger } from '../../../platform/logging/logger.ts';
import { LiveRevocationList } from '../adapters/tokens/live-revocation-list.ts';
import { AccountDisabledError, AccountNotFoundError, CurrentPasswordIncorrectError, RefreshTokenRefusedError } from '../domain/identity.errors.ts';
import { defaultThrottlePolicy } from '../domain/login-throttle.ts';
import { claimsOf } from '../testing/identity-harness.ts';
import {
  FakeAccessTokenSigner, FakePasswordHasher, FakeSecretTokens, FakeSigningKeyGenerator, InMemorySessionStore,
  InMemorySigningKeyRepository, InMemoryTokenRevocationStore, InMemoryUserRepository,
} from '../testing/in-memory-identity.ts';
import { InMemoryLoginThrottleStore } from '../testing/in-memory-login-throttle-store.ts';
import { ChangePassword } from './change-password.ts';
import { DisableAccount } from './disable-account.ts';
import { EnableAccount } from './enable-account.ts';
import { GrantAdmin } from './grant-admin.ts';
import { IssueAccessToken } from './issue-access-token.ts';
import { LogIn } from './log-in.ts';
import { LogOut } from './log-out.ts';
import { RefreshSession } from './refresh-session.ts';
import { RegisterUser } from './register-user.ts';
import { RevokeTokens } from './revoke-tokens.ts';
import { RevokeUserSessions } from './revoke-user-sessions.ts';
import { StartSession } from './start-session.ts';

const password = 'a long enough passphrase';

/** The revoking use cases on in-memory adapters, one clock, and the in-memory list an edge would check. */
function revocationHarness() {
  let nowMs = Date.UTC(2026, 0, 1);
  const now = () => new Date(nowMs);
  const users = new InMemoryUserRepository();
  const passwords = new FakePasswordHasher();
  const sessions = new InMemorySessionStore();
  const secrets = new FakeSecretTokens();
  const store = new InMemoryTokenRevocationStore();
  const list = new LiveRevocationList({ load: () => store.listActive(now()), logger: createLogger({ level: 'silent' }), now: () => nowMs });
  const settings = { issuer: 'https://id.test', audience: 'orderstream', accessTokenTtlSeconds: 900, clockSkewSeconds: 30 };
  const issueAccessToken = new IssueAccessToken({ keys: new InMemorySigningKeyRepository(), generator: new FakeSigningKeyGenerator(), signer: new FakeAccessTokenSigner(), settings, now });
  const startSession = new StartSession({ secrets, issueAccessToken, refreshTokenTtlDays: 30 });
  const revokeTokens = new RevokeTokens({ store, announcers: [list], accessTokenTtlSeconds: 900, clockSkewSeconds: 30, now });
  const revokeUserSessions = new RevokeUserSessions({ users, sessions, revokeTokens, now });
  const throttle = new InMemoryLoginThrottleStore(defaultThrottlePolicy);
  const logIn = new LogIn({ users, passwords, throttle, sessions, startSession, now });
  return {
    users, sessions, store, list,
    advance: (ms: number) => { nowMs += ms; },
    register: async (email: string) => new RegisterUser({ users, passwords, now }).execute({ email, password }),
    logIn: (email: string, secret = password) => logIn.execute({ email, password: secret, clientAddress: '192.0.2.1' }),
    refresh: new RefreshSession({ sessions, users, secrets, startSession, revokeTokens, now }),
    logOut: new LogOut({ sessions, secrets, revokeTokens, now }),
    changePassword: new ChangePassword({ users, passwords, sessions, revokeUserSessions, startSession, now }),
    grantAdmin: new GrantAdmin({ users, revokeTokens }),
    disable: new DisableAccount({ users, revokeUserSessions, now }),
    enable: new EnableAccount({ users }),
    revokeUserSessions,
    /** Whether the edge's list refuses this access token now. */
    refused: async (accessToken: string) => {
      const claims = JSON.parse(accessToken) as { subject: string; sessionId?: string; issuedAt: string };
      return list.revokes({ subject: claims.subject, sessionId: claims.sessionId, issuedAtMs: new Date(claims.issuedAt).getTime() });
    },
  };
}

describe('what revokes tokens', () => {
  test('when a user logs out, then the session is revoked in the store and the list, and another session is not', async () => {
    const identity = revocationHarness();
    await identity.register('ada@example.com');
    const first = await identity.logIn('ada@example.com');
    const second = await identity.logIn('ada@example.com');
    identity.advance(1000);
    await identity.logOut.execute(first.refreshToken);
    assert.deepEqual(identity.store.entries.map((entry) => [entry.revocation.kind, entry.reason]), [['session', 'logout']]);
    assert.equal(await identity.refused(first.accessToken), true);
    assert.equal(await identity.refused(second.accessToken), false);
    await identity.logOut.execute(first.refreshToken);
    assert.equal(identity.store.entries.length, 1, 'a second logout revokes nothing more');
  });

  test('when a refresh token is reused, then the family\'s access tokens are revoked with the reason reuse', async () => {
    const identity = revocationHarness();
    await identity.register('bob@example.com');
    const first = await identity.logIn('bob@example.com');
    const next = await identity.refresh.execute(first.refreshToken);
    await assert.rejects(identity.refresh.execute(first.refreshToken), RefreshTokenRefusedError);
    assert.equal(identity.store.entries[0]?.reason, 'reuse');
    assert.equal(await identity.refused(next.accessToken), true);
  });

  test('when the password changes, then every family and older token is revoked and the answered pair is not; a wrong current password changes nothing', async () => {
    const identity = revocationHarness();
    const user = await identity.register('cleo@example.com');
    const old = await identity.logIn('cleo@example.com');
    await assert.rejects(identity.changePassword.execute({ userId: user.id, currentPassword: 'wrong password here', newPassword: 'a brand new passphrase' }), CurrentPasswordIncorrectError);
    assert.equal(identity.store.entries.length, 0);
    identity.advance(1000);
    const fresh = await identity.changePassword.execute({ userId: user.id, currentPassword: password, newPassword: 'a brand new passphrase' });
    assert.equal(await identity.refused(old.accessToken), true);
    assert.equal(await identity.refused(fresh.accessToken), false);
    assert.deepEqual([...identity.sessions.families.values()].map((family) => family.revokedAt === undefined), [false, true]);
    await identity.refresh.execute(fresh.refreshToken);
    await identity.logIn('cleo@example.com', 'a brand new passphrase');
  });

  test('when an account is disabled, then its tokens are revoked, sign-in and refresh are refused; enabled, it signs in again', async () => {
    const identity = revocationHarness();
    const user = await identity.register('dora@example.com');
    const pair = await identity.logIn('dora@example.com');
    identity.advance(1000);
    const disabled = await identity.disable.execute(user.id);
    assert.ok(disabled.disabledAt !== undefined);
    assert.equal(await identity.refused(pair.accessToken), true);
    await assert.rejects(identity.logIn('dora@example.com'), AccountDisabledError);
    await assert.rejects(identity.refresh.execute(pair.refreshToken), RefreshTokenRefusedError);
    await identity.enable.execute(user.id);
    const again = await identity.logIn('dora@example.com');
    assert.equal(await identity.refused(again.accessToken), false);
  });

  test('when an admin is granted, then the older token is revoked and the refreshed one has the role', async () => {
    const identity = revocationHarness();
    await identity.register('eve@example.com');
    const pair = await identity.logIn('eve@example.com');
    identity.advance(1000);
    await identity.grantAdmin.execute('eve@example.com');
    assert.equal(await identity.refused(pair.accessToken), true);
    const next = await identity.refresh.execute(pair.refreshToken);
    assert.deepEqual(claimsOf(next.accessToken).roles, ['customer', 'admin']);
    assert.equal(await identity.refused(next.accessToken), false);
  });

  test('when sessions are revoked for an unknown user, then AccountNotFoundError and nothing is stored', async () => {
    const identity = revocationHarness();
    await assert.rejects(identity.revokeUserSessions.execute('usr_missing', 'admin'), AccountNotFoundError);
    assert.equal(identity.store.entries.length, 0);
  });

  test('when revocations expire, then the list forgets them and the store prunes them', async () => {
    const identity = revocationHarness();
    const user = await identity.register('fay@example.com');
    await identity.revokeUserSessions.execute(user.id, 'admin');
    identity.advance(930_001);
    assert.equal(await identity.store.pruneExpiredBefore(new Date(Date.UTC(2026, 0, 1) + 930_001)), 1);
    await identity.list.refresh();
    assert.equal(identity.list.size, 0);
  });
});
