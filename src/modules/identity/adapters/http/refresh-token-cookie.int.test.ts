import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Database } from '../../../../platform/database/database.ts';
import { createHttpApp, type HttpApp } from '../../../../platform/http/app.ts';
import { createLogger } from '../../../../platform/logging/logger.ts';
import { auditMigrations } from '../../../../platform/audit/index.ts';
import { messagingMigrations } from '../../../../platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import { startLocalSmtpServer } from '../../../notifications/testing/local-smtp-server.ts';
import { createIdentityModule, identityMigrations, type IdentityModule } from '../../index.ts';

let app: HttpApp;
let db: Database;
let drop: () => Promise<void>;
let identity: IdentityModule;
let smtp: Awaited<ReturnType<typeof startLocalSmtpServer>>;

const password = 'correct horse battery';
const cookieMode = { 'x-refresh-token-mode': 'cookie' };

before(async () => {
  const created = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, auditMigrations, identityMigrations]);
  db = created.db;
  drop = created.drop;
  smtp = await startLocalSmtpServer();
  identity = createIdentityModule({
    db, logger: createLogger({ level: 'silent' }), issuer: 'https://id.orderstream.test', audience: 'orderstream-api', keyEncryptionKey: randomBytes(32).toString('base64'),
    accountEmails: { transport: { transport: 'smtp', smtpUrl: smtp.url }, from: 'OrderStream <accounts@orderstream.test>' },
  });
  app = createHttpApp({ logger: createLogger({ level: 'silent' }), bodyLimit: 16 * 1024, routes: [identity.routes], readiness: [] });
  await app.ready();
});
after(async () => {
  await app.close();
  await identity.close();
  await smtp.close();
  await drop();
});

let sequence = 0;
async function registered(): Promise<string> {
  sequence += 1;
  const email = `cookie${sequence}@example.com`;
  assert.equal((await app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email, password } })).statusCode, 202);
  return email;
}

/** The value of the refresh cookie a response sets, and its attributes. */
function setCookie(response: { headers: Record<string, unknown> }): { value: string; attributes: string } {
  const header = response.headers['set-cookie'];
  assert.equal(typeof header, 'string', 'one Set-Cookie header');
  const [pair = '', ...attributes] = String(header).split('; ');
  assert.ok(pair.startsWith('orderstream_refresh='), String(header));
  return { value: pair.slice('orderstream_refresh='.length), attributes: attributes.join('; ') };
}

async function cookieLogIn(email: string, headers: Record<string, string> = {}) {
  const response = await app.inject({ method: 'POST', url: '/v1/auth/login', headers: { ...cookieMode, ...headers }, payload: { email, password } });
  assert.equal(response.statusCode, 200, response.body);
  return response;
}

describe('the refresh-token cookie (X-Refresh-Token-Mode: cookie)', () => {
  test('when signing in with the cookie mode, then the refresh token is an httpOnly SameSite=Strict cookie scoped to /v1/auth and absent from the body', async () => {
    const response = await cookieLogIn(await registered());
    const body = response.json<Record<string, unknown>>();
    assert.equal(body.refreshToken, undefined);
    assert.equal(typeof body.accessToken, 'string');
    const cookie = setCookie(response);
    assert.match(cookie.value, /^[A-Za-z0-9_-]{20,}$/);
    assert.equal(cookie.attributes, 'Path=/v1/auth; HttpOnly; SameSite=Strict');
  });

  test('when the request came over HTTPS (X-Forwarded-Proto), then the cookie is Secure', async () => {
    const response = await cookieLogIn(await registered(), { 'x-forwarded-proto': 'https' });
    assert.equal(setCookie(response).attributes, 'Path=/v1/auth; HttpOnly; SameSite=Strict; Secure');
  });

  test('when refreshing with only the cookie, then a new access token comes back and the cookie rotates; the old cookie is then refused and cleared', async () => {
    const first = setCookie(await cookieLogIn(await registered())).value;
    const refreshed = await app.inject({ method: 'POST', url: '/v1/auth/refresh', headers: { ...cookieMode, cookie: `other=1; orderstream_refresh=${first}` }, payload: {} });
    assert.equal(refreshed.statusCode, 200, refreshed.body);
    const body = refreshed.json<{ accessToken: string; refreshToken?: string }>();
    assert.equal(body.refreshToken, undefined);
    await identity.verifier.verify(body.accessToken);
    const second = setCookie(refreshed).value;
    assert.notEqual(second, first);

    const reused = await app.inject({ method: 'POST', url: '/v1/auth/refresh', headers: { ...cookieMode, cookie: `orderstream_refresh=${first}` }, payload: {} });
    assert.equal(reused.statusCode, 401);
    assert.match(String(reused.headers['set-cookie']), /^orderstream_refresh=; Max-Age=0; Path=\/v1\/auth/);
  });

  test('when logging out with the cookie, then its session ends and the cookie is cleared', async () => {
    const token = setCookie(await cookieLogIn(await registered())).value;
    const loggedOut = await app.inject({ method: 'POST', url: '/v1/auth/logout', headers: { ...cookieMode, cookie: `orderstream_refresh=${token}` }, payload: {} });
    assert.equal(loggedOut.statusCode, 204);
    assert.match(String(loggedOut.headers['set-cookie']), /^orderstream_refresh=; Max-Age=0;/);
    const refused = await app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: token } });
    assert.equal(refused.statusCode, 401);
  });

  test('when the cookie mode is not asked for, then no cookie is set and the body carries the refresh token as before', async () => {
    const email = await registered();
    const response = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password } });
    assert.equal(response.headers['set-cookie'], undefined);
    assert.equal(typeof response.json<{ refreshToken: unknown }>().refreshToken, 'string');
  });

  test('when the cookie holds a malformed value or the mode header an unknown value, then 401 or 400', async () => {
    const malformed = await app.inject({ method: 'POST', url: '/v1/auth/refresh', headers: { cookie: 'orderstream_refresh=a;b"c' }, payload: {} });
    assert.equal(malformed.statusCode, 401);
    const unknownMode = await app.inject({ method: 'POST', url: '/v1/auth/login', headers: { 'x-refresh-token-mode': 'body' }, payload: { email: 'x@example.com', password } });
    assert.equal(unknownMode.statusCode, 400);
  });
});
