import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { loadConfig } from '../../src/platform/config/config.ts';
import { createLogger } from '../../src/platform/logging/logger.ts';
import { createSingleProcess } from '../../src/apps/single-process.ts';
import { startFulfilment, type FulfilmentHarness } from './harness/fulfilment-harness.ts';

let harness: FulfilmentHarness;
let adminToken: string;
const password = 'a long enough passphrase';

before(async () => {
  // Real tokens only, and verified tokens cached (the default): a revocation must refuse a cached token too.
  harness = await startFulfilment({ DEV_IDENTITY_HEADERS: 'false' }, { registerWebhook: false });
  const { admin } = await harness.orderstream.identity.seedDemoUsers();
  adminToken = (await login(admin.email, admin.password)).accessToken;
});
after(async () => { await harness.close(); });

interface Pair { accessToken: string; refreshToken: string }

function inject(method: 'GET' | 'POST', url: string, options: { token?: string; payload?: object } = {}) {
  return harness.orderstream.app.inject({
    method, url, ...(options.token === undefined ? {} : { headers: { authorization: `Bearer ${options.token}` } }),
    ...(options.payload === undefined ? {} : { payload: options.payload }),
  });
}

async function login(email: string, secret = password): Promise<Pair> {
  const response = await inject('POST', '/v1/auth/login', { payload: { email, password: secret } });
  assert.equal(response.statusCode, 200, response.body);
  return response.json();
}

/** A new customer account, signed in; answers its id and first pair. */
async function newCustomer(name: string): Promise<Pair & { email: string; id: string }> {
  const email = `${name}-${crypto.randomUUID().slice(0, 8)}@example.com`;
  const registered = await inject('POST', '/v1/auth/register', { payload: { email, password } });
  assert.ok([201, 202].includes(registered.statusCode), registered.body);
  const pair = await login(email);
  return { ...pair, email, id: claimsOf(pair.accessToken).sub };
}

/** The audit trail's actions on `userId`, oldest first, with who did them. */
async function auditedActs(userId: string): Promise<{ action: string; actor_id: string }[]> {
  const result = await sql<{ action: string; actor_id: string }>`
    select action, actor_id from audit.entries where target_id = ${userId} and action like 'identity.%' order by id`.execute(harness.db);
  return result.rows;
}

function claimsOf(token: string): { sub: string; sid?: string; roles: string[]; iat: number } {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub: string; sid?: string; roles: string[]; iat: number };
}

/** A customer route that reads nothing but the caller: 200 while the token is accepted. */
async function statusWith(token: string): Promise<number> {
  return (await inject('GET', '/v1/orders', { token })).statusCode;
}

describe('token revocation through the whole single process', () => {
  test('when a user signs in, then the access token carries the session as its sid', async () => {
    const user = await newCustomer('sid');
    assert.match(claimsOf(user.accessToken).sid ?? '', /^rtf_/);
  });

  test('when a user logs out, then their access token gets 401 on its next request, even though it was verified and cached just before', async () => {
    const user = await newCustomer('logout');
    const other = await login(user.email);
    assert.equal(await statusWith(user.accessToken), 200);
    const loggedOut = await inject('POST', '/v1/auth/logout', { payload: { refreshToken: user.refreshToken } });
    assert.equal(loggedOut.statusCode, 204);
    const refused = await inject('GET', '/v1/orders', { token: user.accessToken });
    assert.equal(refused.statusCode, 401);
    assert.equal(refused.json<{ type: string }>().type.endsWith('/invalid-token'), true, refused.body);
    assert.equal(await statusWith(other.accessToken), 200, 'another session of the same user goes on');
  });

  test('when a refresh token is reused, then the access tokens of its family get 401', async () => {
    const user = await newCustomer('reuse');
    const refreshed = await inject('POST', '/v1/auth/refresh', { payload: { refreshToken: user.refreshToken } });
    assert.equal(refreshed.statusCode, 200);
    const next = refreshed.json<Pair>();
    assert.equal(await statusWith(next.accessToken), 200);
    const reused = await inject('POST', '/v1/auth/refresh', { payload: { refreshToken: user.refreshToken } });
    assert.equal(reused.statusCode, 401);
    assert.equal(await statusWith(next.accessToken), 401);
    assert.equal(await statusWith(user.accessToken), 401);
  });

  test('when a user changes their password, then every older token gets 401, the answered pair works, and only the new password signs in', async () => {
    const user = await newCustomer('password');
    const otherDevice = await login(user.email);
    const newPassword = 'another long passphrase';
    const changed = await inject('POST', '/v1/auth/password', { token: user.accessToken, payload: { currentPassword: password, newPassword } });
    assert.equal(changed.statusCode, 200, changed.body);
    const fresh = changed.json<Pair>();
    assert.equal(await statusWith(user.accessToken), 401);
    assert.equal(await statusWith(otherDevice.accessToken), 401);
    assert.equal(await statusWith(fresh.accessToken), 200);
    assert.equal((await inject('POST', '/v1/auth/refresh', { payload: { refreshToken: otherDevice.refreshToken } })).statusCode, 401);
    assert.equal((await inject('POST', '/v1/auth/refresh', { payload: { refreshToken: fresh.refreshToken } })).statusCode, 200);
    assert.equal((await inject('POST', '/v1/auth/login', { payload: { email: user.email, password } })).statusCode, 401);
    await login(user.email, newPassword);
  });

  test('when a password change gives a wrong current password or a weak new one, then 403 or 400 and nothing is revoked', async () => {
    const user = await newCustomer('wrong');
    const wrong = await inject('POST', '/v1/auth/password', { token: user.accessToken, payload: { currentPassword: 'not the password at all', newPassword: 'another long passphrase' } });
    assert.equal(wrong.statusCode, 403, wrong.body);
    const weak = await inject('POST', '/v1/auth/password', { token: user.accessToken, payload: { currentPassword: password, newPassword: 'short' } });
    assert.equal(weak.statusCode, 400, weak.body);
    const anonymous = await inject('POST', '/v1/auth/password', { payload: { currentPassword: password, newPassword: 'another long passphrase' } });
    assert.equal(anonymous.statusCode, 401);
    assert.equal(await statusWith(user.accessToken), 200);
  });

  test('when a user is made an admin, then their older token gets 401 and the refreshed one carries the admin role', async () => {
    const user = await newCustomer('promoted');
    assert.equal((await inject('GET', '/v1/jobs', { token: user.accessToken })).statusCode, 403);
    await harness.orderstream.identity.grantAdmin(user.email);
    assert.equal(await statusWith(user.accessToken), 401);
    const refreshed = await inject('POST', '/v1/auth/refresh', { payload: { refreshToken: user.refreshToken } });
    assert.equal(refreshed.statusCode, 200);
    const next = refreshed.json<Pair>();
    assert.ok(claimsOf(next.accessToken).roles.includes('admin'));
    assert.equal((await inject('GET', '/v1/jobs', { token: next.accessToken })).statusCode, 200);
  });

  test('when an admin disables an account, then its tokens get 401, sign-in and refresh are refused, and enabling lets it sign in again', async () => {
    const user = await newCustomer('disabled');
    const disabled = await inject('POST', `/v1/admin/users/${user.id}/disable`, { token: adminToken });
    assert.equal(disabled.statusCode, 200, disabled.body);
    assert.equal(disabled.json<{ disabled: boolean }>().disabled, true);
    assert.equal(await statusWith(user.accessToken), 401);
    const signIn = await inject('POST', '/v1/auth/login', { payload: { email: user.email, password } });
    assert.equal(signIn.statusCode, 403, signIn.body);
    assert.equal(signIn.json<{ type: string }>().type.endsWith('/account-disabled'), true);
    assert.equal((await inject('POST', '/v1/auth/refresh', { payload: { refreshToken: user.refreshToken } })).statusCode, 401);
    const enabled = await inject('POST', `/v1/admin/users/${user.id}/enable`, { token: adminToken });
    assert.equal(enabled.statusCode, 200, enabled.body);
    assert.equal(enabled.json<{ disabled: boolean }>().disabled, false);
    const again = await login(user.email);
    assert.equal(await statusWith(again.accessToken), 200);
    const adminId = claimsOf(adminToken).sub;
    assert.deepEqual(await auditedActs(user.id), [
      { action: 'identity.account-disabled', actor_id: adminId }, { action: 'identity.account-enabled', actor_id: adminId },
    ]);
  });

  test('when an admin revokes a user\'s sessions, then every token of the user gets 401 and a new sign-in works', async () => {
    const user = await newCustomer('revoked');
    const second = await login(user.email);
    const revoked = await inject('POST', `/v1/admin/users/${user.id}/sessions/revoke`, { token: adminToken });
    assert.equal(revoked.statusCode, 200, revoked.body);
    assert.deepEqual(revoked.json(), { userId: user.id, sessionsRevoked: 2 });
    assert.deepEqual(await auditedActs(user.id), [{ action: 'identity.sessions-revoked', actor_id: claimsOf(adminToken).sub }]);
    assert.equal(await statusWith(user.accessToken), 401);
    assert.equal(await statusWith(second.accessToken), 401);
    assert.equal((await inject('POST', '/v1/auth/refresh', { payload: { refreshToken: second.refreshToken } })).statusCode, 401);
    const again = await login(user.email);
    assert.equal(await statusWith(again.accessToken), 200);
  });

  test('when the admin account routes are called by a customer or for an unknown id, then 403 or 404 and nothing changes', async () => {
    const user = await newCustomer('nosy');
    assert.equal((await inject('POST', `/v1/admin/users/${user.id}/disable`, { token: user.accessToken })).statusCode, 403);
    for (const action of ['disable', 'enable', 'sessions/revoke']) {
      const response = await inject('POST', `/v1/admin/users/usr_missing/${action}`, { token: adminToken });
      assert.equal(response.statusCode, 404, `${action}: ${response.body}`);
      assert.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8');
    }
    assert.equal(await statusWith(user.accessToken), 200);
  });

  test('when OrderStream restarts on the same database, then a revocation made before still refuses the token', async () => {
    const user = await newCustomer('restart');
    assert.equal((await inject('POST', '/v1/auth/logout', { payload: { refreshToken: user.refreshToken } })).statusCode, 204);
    const config = loadConfig({ LOG_LEVEL: 'silent', DEV_IDENTITY_HEADERS: 'false', RATE_LIMIT_BURST: '1000000', AUTH_RATE_LIMIT_BURST: '1000000' });
    const restarted = await createSingleProcess({
      config, logger: createLogger({ level: 'silent' }), databaseUrl: harness.databaseUrl, keyEncryptionKey: randomBytes(32).toString('base64'),
    });
    try {
      const response = await restarted.app.inject({ method: 'GET', url: '/v1/orders', headers: { authorization: `Bearer ${user.accessToken}` } });
      assert.equal(response.statusCode, 401, response.body);
      const other = await newCustomer('still-fine');
      const accepted = await restarted.app.inject({ method: 'GET', url: '/v1/orders', headers: { authorization: `Bearer ${other.accessToken}` } });
      assert.equal(accepted.statusCode, 200, accepted.body);
    } finally {
      await restarted.close();
    }
  });
});
