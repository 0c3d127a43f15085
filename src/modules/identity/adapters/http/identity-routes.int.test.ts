import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { sql } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { createHttpApp, type HttpApp } from '../../../../platform/http/app.ts';
import { createLogger } from '../../../../platform/logging/logger.ts';
import { auditMigrations } from '../../../../platform/audit/index.ts';
import { messagingMigrations } from '../../../../platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import { decodeQuotedPrintable, startLocalSmtpServer } from '../../../notifications/testing/local-smtp-server.ts';
import { createIdentityModule, identityMigrations, TokenRejectedError, type IdentityModule } from '../../index.ts';

let app: HttpApp;
let db: Database;
let drop: () => Promise<void>;
let identity: IdentityModule;
let smtp: Awaited<ReturnType<typeof startLocalSmtpServer>>;

const issuer = 'https://id.orderstream.test';
const password = 'correct horse battery';

before(async () => {
  const created = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, auditMigrations, identityMigrations]);
  db = created.db;
  drop = created.drop;
  smtp = await startLocalSmtpServer();
  identity = createIdentityModule({
    db, logger: createLogger({ level: 'silent' }), issuer, audience: 'orderstream-api', keyEncryptionKey: randomBytes(32).toString('base64'),
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

/** The decoded mail to `to` whose subject matches, waiting up to 10 s. */
async function mailTo(to: string, subject: RegExp): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const mail = smtp.received.find((received) => received.to.includes(to) && subject.test(received.raw));
    if (mail !== undefined) return decodeQuotedPrintable(mail.raw);
    if (Date.now() > deadline) throw new Error(`no mail to ${to} matching ${String(subject)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Counts { users: number; outbox: number; tokens: number; families: number; failures: number }

async function counts(): Promise<Counts> {
  const result = await sql<Counts>`
    select (select count(*)::int from identity.users) as users, (select count(*)::int from messaging.outbox) as outbox,
      (select count(*)::int from identity.refresh_tokens) as tokens, (select count(*)::int from identity.refresh_token_families) as families,
      (select coalesce(sum(failures), 0)::int from identity.login_throttle_pairs) as failures`.execute(db);
  const row = result.rows[0];
  assert.ok(row);
  return row;
}

let sequence = 0;
async function registered(): Promise<string> {
  sequence += 1;
  const email = `user${sequence}@example.com`;
  const response = await app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email, password } });
  assert.equal(response.statusCode, 202, response.body);
  return email;
}

async function logIn(email: string, remoteAddress = '10.1.1.1', secret = password) {
  const response = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password: secret }, remoteAddress });
  assert.equal(response.statusCode, 200, response.body);
  return response.json<{ accessToken: string; tokenType: string; expiresIn: number; refreshToken: string }>();
}

function assertProblem(response: { statusCode: number; headers: Record<string, unknown>; body: string }, status: number, slug: string): void {
  assert.equal(response.statusCode, status);
  assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
  assert.equal((JSON.parse(response.body) as { type: string }).type, `https://orderstream.dev/problems/${slug}`);
}

describe('POST /v1/auth/register', () => {
  test('when the body is valid, then 202 with a neutral message, the customer is stored with the email normalised, the event queued, and a verification email sent', async () => {
    const before = await counts();
    const response = await app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email: '  New.Person@Example.com ', password } });
    assert.equal(response.statusCode, 202);
    const body = response.json<Record<string, unknown>>();
    assert.deepEqual(Object.keys(body), ['message']);
    assert.deepEqual(await counts(), { ...before, users: before.users + 1, outbox: before.outbox + 1 });
    const stored = await sql<{ id: string; roles: string[]; password_hash: string; email_verified_at: Date | null }>`
      select id, roles, password_hash, email_verified_at from identity.users where email = 'new.person@example.com'`.execute(db);
    const user = stored.rows[0];
    assert.ok(user);
    assert.deepEqual(user.roles, ['customer']);
    assert.equal(user.email_verified_at, null);
    assert.match(user.password_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    const event = await sql<{ type: string; key: string }>`select type, key from messaging.outbox order by position desc limit 1`.execute(db);
    assert.deepEqual(event.rows[0], { type: 'identity.user-registered', key: user.id });
    assert.match(await mailTo('new.person@example.com', /^Subject: Confirm your email address/m), /POST \/v1\/auth\/verify-email/);
  });

  const badBodies: { when: string; payload: unknown; field: string }[] = [
    { when: 'the password is missing', payload: { email: 'a@example.com' }, field: 'password' },
    { when: 'the password is 11 characters', payload: { email: 'a@example.com', password: 'eleven-char' }, field: 'password' },
    { when: 'the password is a common one', payload: { email: 'a@example.com', password: 'Password1234' }, field: 'password' },
    { when: 'the email is not an address', payload: { email: 'not-an-email', password }, field: 'email' },
    { when: 'the email is a number', payload: { email: 42, password }, field: 'email' },
    { when: 'an unknown field is sent', payload: { email: 'a@example.com', password, role: 'admin' }, field: '' },
  ];
  for (const { when, payload, field } of badBodies) {
    test(`when ${when}, then 400 problem+json names "${field || 'the body'}" and nothing is stored`, async () => {
      const before = await counts();
      const response = await app.inject({ method: 'POST', url: '/v1/auth/register', payload: payload as Record<string, unknown> });
      assertProblem(response, 400, 'validation-error');
      assert.ok(response.json<{ errors: { field: string }[] }>().errors.some((error) => error.field === field), response.body);
      assert.deepEqual(await counts(), before);
    });
  }

  test('when the body is malformed JSON, then 400 and nothing is stored', async () => {
    const before = await counts();
    const response = await app.inject({ method: 'POST', url: '/v1/auth/register', headers: { 'content-type': 'application/json' }, payload: '{"email":' });
    assertProblem(response, 400, 'malformed-json');
    assert.deepEqual(await counts(), before);
  });

  test('when the email is already registered in another letter case, then the same 202 answer, nothing more is stored, and the owner is told by email', async () => {
    const email = await registered();
    const fresh = await app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email: `fresh-${email}`, password } });
    const before = await counts();
    const response = await app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email: email.toUpperCase(), password: 'another long passphrase' } });
    assert.equal(response.statusCode, fresh.statusCode);
    assert.equal(response.body, fresh.body);
    assert.equal(response.headers['content-type'], fresh.headers['content-type']);
    assert.deepEqual(await counts(), before);
    const notice = await mailTo(email, /^Subject: Someone tried to register with your address/m);
    assert.match(notice, /sign in with your password, or reset it/);
    // The account kept its password.
    assert.equal((await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password }, remoteAddress: '10.9.9.9' })).statusCode, 200);
  });
});

describe('POST /v1/auth/login', () => {
  test('when the credentials are right, then a Bearer pair comes back, not cacheable, and the access token verifies with the claims asked for', async () => {
    const email = await registered();
    const response = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password } });
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['cache-control'], 'no-store');
    const pair = response.json<{ accessToken: string; tokenType: string; expiresIn: number; refreshToken: string }>();
    assert.equal(pair.tokenType, 'Bearer');
    assert.equal(pair.expiresIn, 900);
    const claims = decodeJwt(pair.accessToken);
    assert.equal(claims.iss, issuer);
    assert.equal(claims.aud, 'orderstream-api');
    assert.deepEqual(claims.roles, ['customer']);
    assert.equal(typeof claims.jti, 'string');
    assert.equal((claims.exp ?? 0) - (claims.iat ?? 0), 900);
    const header = decodeProtectedHeader(pair.accessToken);
    assert.equal(header.alg, 'ES256');
    assert.equal(typeof header.kid, 'string');
    const principal = await identity.verifier.verify(pair.accessToken);
    assert.deepEqual({ email: principal.email, roles: principal.roles, id: principal.id }, { email, roles: ['customer'], id: claims.sub });
  });

  test('when the password is wrong or the account unknown, then the same 401 problem and a failure is counted, no session', async () => {
    const email = await registered();
    const before = await counts();
    const wrong = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password: 'not the password!' }, remoteAddress: '10.2.2.2' });
    const unknown = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: 'ghost@example.com', password }, remoteAddress: '10.2.2.3' });
    assertProblem(wrong, 401, 'invalid-credentials');
    assertProblem(unknown, 401, 'invalid-credentials');
    assert.equal(wrong.json<{ detail: string }>().detail, unknown.json<{ detail: string }>().detail);
    assert.deepEqual(await counts(), { ...before, failures: before.failures + 2 });
  });

  test('when one address failed 5 times for an account, then its next try gets 429 with Retry-After and nothing is counted, and another address signs in', async () => {
    const email = await registered();
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const response = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password: 'wrong password!' }, remoteAddress: '10.3.0.1' });
      assert.equal(response.statusCode, 401);
    }
    const before = await counts();
    const response = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password }, remoteAddress: '10.3.0.1' });
    assertProblem(response, 429, 'too-many-sign-in-attempts');
    assert.equal(response.headers['retry-after'], '1');
    assert.deepEqual(await counts(), before);
    await logIn(email, '10.3.1.1');
  });

  test('when the body lacks the password, then 400 and nothing is counted', async () => {
    const before = await counts();
    const response = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: 'a@example.com' } });
    assertProblem(response, 400, 'validation-error');
    assert.deepEqual(await counts(), before);
  });
});

describe('POST /v1/auth/refresh and /v1/auth/logout', () => {
  test('when a refresh token is used, then a new pair comes back; using the old one again is 401 reused and revokes the new one too', async () => {
    const pair = await logIn(await registered());
    const refreshed = await app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: pair.refreshToken } });
    assert.equal(refreshed.statusCode, 200);
    const next = refreshed.json<{ accessToken: string; refreshToken: string }>();
    assert.notEqual(next.refreshToken, pair.refreshToken);
    await identity.verifier.verify(next.accessToken);

    const reused = await app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: pair.refreshToken } });
    assertProblem(reused, 401, 'refresh-token-reused');
    const revoked = await app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: next.refreshToken } });
    assertProblem(revoked, 401, 'invalid-refresh-token');
  });

  test('when the refresh token was never issued, is absent from the body and the cookie, or the body is malformed, then 401 or 400 and nothing is stored', async () => {
    const before = await counts();
    assertProblem(await app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: 'made-up' } }), 401, 'invalid-refresh-token');
    assertProblem(await app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: {} }), 401, 'invalid-refresh-token');
    assertProblem(await app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: 42 } }), 400, 'validation-error');
    assert.deepEqual(await counts(), before);
  });

  test('when logging out, then 204 and the refresh token stops working; a bad body is 400', async () => {
    const pair = await logIn(await registered());
    const response = await app.inject({ method: 'POST', url: '/v1/auth/logout', payload: { refreshToken: pair.refreshToken } });
    assert.equal(response.statusCode, 204);
    assertProblem(await app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: pair.refreshToken } }), 401, 'invalid-refresh-token');
    assertProblem(await app.inject({ method: 'POST', url: '/v1/auth/logout', payload: { token: pair.refreshToken } }), 400, 'validation-error');
  });
});

describe('POST /v1/auth/token (client credentials)', () => {
  test('when a service client sends its credentials as a form or as JSON, then a service token comes back', async () => {
    const client = await identity.createServiceClient('billing-worker');
    const form = await app.inject({
      method: 'POST', url: '/v1/auth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret }).toString(),
    });
    assert.equal(form.statusCode, 200, form.body);
    const token = form.json<{ access_token: string; token_type: string; expires_in: number }>();
    assert.equal(token.token_type, 'Bearer');
    const principal = await identity.verifier.verify(token.access_token);
    assert.deepEqual([principal.id, principal.roles], [client.clientId, ['service']]);
    const json = await app.inject({ method: 'POST', url: '/v1/auth/token', payload: { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret } });
    assert.equal(json.statusCode, 200);
  });

  test('when the secret is wrong, then 401; when the grant type is another, then 400', async () => {
    const client = await identity.createServiceClient('inventory-worker');
    assertProblem(await app.inject({ method: 'POST', url: '/v1/auth/token', payload: { grant_type: 'client_credentials', client_id: client.clientId, client_secret: 'guess' } }), 401, 'invalid-client');
    const wrongGrant = await app.inject({ method: 'POST', url: '/v1/auth/token', payload: { grant_type: 'password', client_id: client.clientId, client_secret: client.clientSecret } });
    assertProblem(wrongGrant, 400, 'validation-error');
    assert.ok(wrongGrant.json<{ errors: { field: string }[] }>().errors.some((error) => error.field === 'grant_type'));
  });
});

describe('JWKS, discovery and key rotation', () => {
  test('when discovery is read, then it names the issuer, the JWKS and the token endpoint', async () => {
    const response = await app.inject({ method: 'GET', url: '/.well-known/openid-configuration' });
    assert.equal(response.statusCode, 200);
    const body = response.json<Record<string, unknown>>();
    assert.equal(body.issuer, issuer);
    assert.equal(body.jwks_uri, `${issuer}/.well-known/jwks.json`);
    assert.equal(body.token_endpoint, `${issuer}/v1/auth/token`);
    assert.deepEqual(body.id_token_signing_alg_values_supported, ['ES256']);
  });

  test('when the key is rotated, then new tokens carry the new kid, the old key stays in the JWKS and tokens it signed still verify', async () => {
    const email = await registered();
    const before = await logIn(email);
    const oldKid = decodeProtectedHeader(before.accessToken).kid;
    await identity.rotateSigningKey();
    const afterRotation = await logIn(email);
    const newKid = decodeProtectedHeader(afterRotation.accessToken).kid;
    assert.notEqual(newKid, oldKid);

    const jwks = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    assert.equal(jwks.statusCode, 200);
    const keys = jwks.json<{ keys: Record<string, unknown>[] }>().keys;
    assert.deepEqual(keys.map((key) => key.kid), [newKid, oldKid]);
    for (const key of keys) {
      assert.deepEqual(Object.keys(key).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
      assert.equal(key.alg, 'ES256');
    }
    await identity.verifier.verify(before.accessToken);
    await identity.verifier.verify(afterRotation.accessToken);
    const stored = await sql<{ encrypted_private_jwk: string }>`select encrypted_private_jwk from identity.signing_keys`.execute(db);
    assert.ok(stored.rows.every((row) => row.encrypted_private_jwk.startsWith('v1.') && !row.encrypted_private_jwk.includes('"d"')));
  });

  test('when a token is tampered with, then the verifier refuses it as a bad signature', async () => {
    const pair = await logIn(await registered());
    const [header, payload, signature] = pair.accessToken.split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    const forged = [header, Buffer.from(JSON.stringify({ ...claims, roles: ['customer', 'admin'] })).toString('base64url'), signature].join('.');
    await assert.rejects(identity.verifier.verify(forged), (error: unknown) => error instanceof TokenRejectedError && error.reason === 'bad-signature');
  });
});

describe('seedDemoUsers and grantAdmin', () => {
  test('when seeded twice, then the admin and customer exist once and sign in with the answered credentials', async () => {
    const first = await identity.seedDemoUsers();
    assert.deepEqual(await identity.seedDemoUsers(), first);
    const admin = await logIn(first.admin.email, '10.8.8.8', first.admin.password);
    assert.deepEqual(decodeJwt(admin.accessToken).roles, ['customer', 'admin']);
    const customer = await logIn(first.customer.email, '10.8.8.9', first.customer.password);
    assert.deepEqual(decodeJwt(customer.accessToken).roles, ['customer']);
    const rows = await sql<{ count: number }>`select count(*)::int as count from identity.users where email like '%@demo.orderstream.local'`.execute(db);
    assert.equal(rows.rows[0]?.count, 2);
  });

  test('when admin is granted to an account, then its next token says admin', async () => {
    const email = await registered();
    const granted = await identity.grantAdmin(email.toUpperCase());
    assert.deepEqual(granted.roles, ['customer', 'admin']);
    assert.deepEqual(decodeJwt((await logIn(email, '10.9.0.1')).accessToken).roles, ['customer', 'admin']);
  });
});

describe('concurrency', () => {
  test('when one refresh token is presented twice at once, then at most one gets a new pair and the family ends revoked', async () => {
    const pair = await logIn(await registered());
    const responses = await Promise.all([0, 1].map(() => app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: pair.refreshToken } })));
    assert.deepEqual(responses.map((response) => response.statusCode).sort(), [200, 401]);
    const winner = responses.find((response) => response.statusCode === 200);
    assertProblem(await app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: winner?.json<{ refreshToken: string }>().refreshToken } }), 401, 'invalid-refresh-token');
  });

  test('when two rotations run at once, then exactly one key is current afterwards and the JWKS lists each key once', async () => {
    await Promise.all([identity.rotateSigningKey(), identity.rotateSigningKey(), identity.rotateSigningKey()]);
    const current = await sql<{ count: number }>`select count(*)::int as count from identity.signing_keys where retired_at is null`.execute(db);
    assert.equal(current.rows[0]?.count, 1);
    const jwks = (await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json<{ keys: { kid: string }[] }>();
    assert.equal(new Set(jwks.keys.map((key) => key.kid)).size, jwks.keys.length);
  });
});
