import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { InjectOptions } from 'fastify';
import { base64url, decodeJwt, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { sql } from 'kysely';
import { startFulfilment, type FulfilmentHarness } from './harness/fulfilment-harness.ts';

// Every way a caller can be refused at the edge of the whole single process, each with its status,
// problem+json, and proof that nothing behind the edge ran (no order, no product written).
// Expired, not-yet-valid, wrong-issuer and wrong-audience tokens must be validly signed to test the
// claim checks rather than the signature: they are signed with a key of an external issuer this
// test serves a JWKS for and trusts through EXTERNAL_OIDC_ISSUERS.

const audience = 'orderstream-external';
let harness: FulfilmentHarness;
let jwksServer: Server;
let externalIssuer: string;
let externalKey: { privateKey: CryptoKey; publicJwk: JWK };
let adminToken: string;

before(async () => {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  externalKey = { privateKey, publicJwk: { ...await exportJWK(publicKey), kid: 'external-1', alg: 'ES256', use: 'sig' } };
  jwksServer = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [externalKey.publicJwk] }));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  externalIssuer = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/realms/shop`;
  harness = await startFulfilment({
    DEV_IDENTITY_HEADERS: 'false',
    EXTERNAL_OIDC_ISSUERS: JSON.stringify([{ issuer: externalIssuer, jwksUrl: `${externalIssuer}/certs`, audience, rolesClaim: 'roles', roleMapping: { shopper: 'customer' } }]),
  }, { registerWebhook: false });
  const { admin } = await harness.orderstream.identity.seedDemoUsers();
  adminToken = (await login(admin.email, admin.password)).accessToken;
  const asAdmin = { authorization: `Bearer ${adminToken}` };
  assert.equal((await inject({ method: 'POST', url: '/v1/products', headers: asAdmin, payload: { sku: 'REJECT-1', name: 'Reject', price: { amount: 100, currency: 'EUR' } } })).statusCode, 201);
  assert.equal((await inject({ method: 'PUT', url: '/v1/inventory/REJECT-1', headers: asAdmin, payload: { onHand: 100 } })).statusCode, 200);
});
after(async () => {
  await harness.close();
  jwksServer.closeAllConnections();
  await new Promise((resolve) => jwksServer.close(resolve));
});

const inject = (options: InjectOptions) => harness.orderstream.app.inject(options);

interface TokenPair { accessToken: string; refreshToken: string }

function subjectOf(accessToken: string): string {
  const { sub } = decodeJwt(accessToken);
  assert.ok(sub !== undefined);
  return sub;
}

async function login(email: string, password: string): Promise<TokenPair> {
  const response = await harness.orderstream.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password } });
  assert.equal(response.statusCode, 200, response.body);
  return response.json();
}

let registeredCount = 0;
async function newCustomer(): Promise<TokenPair & { id: string }> {
  registeredCount += 1;
  const email = `rejected-${registeredCount}-${crypto.randomUUID().slice(0, 8)}@example.com`;
  const password = 'a long enough passphrase';
  const registered = await harness.orderstream.app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email, password } });
  assert.equal(registered.statusCode, 202, registered.body);
  const pair = await login(email, password);
  // Registration does not answer the id (it would tell a new account from a taken email); the token's subject does.
  return { id: subjectOf(pair.accessToken), ...pair };
}

const orderCount = async () => (await sql<{ count: number }>`select count(*)::int as count from orders.orders`.execute(harness.db)).rows[0]?.count;

function placeWith(headers: Record<string, string>) {
  return harness.orderstream.app.inject({
    method: 'POST', url: '/v1/orders', headers: { 'idempotency-key': crypto.randomUUID(), ...headers },
    payload: { items: [{ sku: 'REJECT-1', quantity: 1 }], payment: { token: 'tok_visa' } },
  });
}

function assertProblem(response: { statusCode: number; headers: Record<string, unknown>; body: string }, status: number, slug: string): void {
  assert.equal(response.statusCode, status, response.body);
  assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
  assert.equal((JSON.parse(response.body) as { type: string }).type, `https://orderstream.dev/problems/${slug}`);
}

/** A token for the external issuer, validly signed; `claims` and `times` override the valid defaults. */
function externalToken(claims: Record<string, unknown> = {}, times: { exp?: number; nbf?: number; iat?: number } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ roles: ['shopper'], iss: externalIssuer, aud: audience, sub: 'shopper-1', ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: 'external-1', typ: 'JWT' })
    .setIssuedAt(times.iat ?? now)
    .setExpirationTime(times.exp ?? now + 300);
  if (times.nbf !== undefined) jwt.setNotBefore(times.nbf);
  return jwt.sign(externalKey.privateKey);
}

function encodeJson(value: unknown): string {
  return base64url.encode(JSON.stringify(value));
}

/** The header and claims of a real access token, read without verifying. */
function partsOf(token: string): { header: Record<string, unknown>; payload: Record<string, unknown>; signature: string } {
  const [header, payload, signature] = token.split('.');
  return {
    header: JSON.parse(new TextDecoder().decode(base64url.decode(header ?? ''))) as Record<string, unknown>,
    payload: JSON.parse(new TextDecoder().decode(base64url.decode(payload ?? ''))) as Record<string, unknown>,
    signature: signature ?? '',
  };
}

/** Sends an order with `authorization`; asserts the refusal and that no order was written. */
async function assertOrderRefused(authorization: string | undefined, status: number, slug: string): Promise<void> {
  const before = await orderCount();
  const response = await placeWith(authorization === undefined ? {} : { authorization });
  assertProblem(response, status, slug);
  if (status === 401) assert.match(String(response.headers['www-authenticate']), /^Bearer/);
  assert.equal(await orderCount(), before);
}

describe('the edge refuses', () => {
  test('(control) when a valid token of the trusted external issuer is sent, then its order is accepted', async () => {
    const response = await placeWith({ authorization: `Bearer ${await externalToken()}` });
    assert.equal(response.statusCode, 202, response.body);
  });

  test('when no token is sent, then 401 unauthenticated and no order is written', async () => {
    await assertOrderRefused(undefined, 401, 'unauthenticated');
  });

  test('when the authorization header is not a bearer token, then 401 and no order is written', async () => {
    await assertOrderRefused('Token abc', 401, 'invalid-token');
  });

  test('when the token is malformed, then 401 and no order is written', async () => {
    await assertOrderRefused('Bearer not-a-jwt', 401, 'invalid-token');
    await assertOrderRefused('Bearer a.b.c', 401, 'invalid-token');
  });

  test('when the token says alg none, then 401 and no order is written', async () => {
    const real = partsOf((await newCustomer()).accessToken);
    const unsigned = `${encodeJson({ ...real.header, alg: 'none' })}.${encodeJson({ ...real.payload, roles: ['customer', 'admin'] })}.`;
    await assertOrderRefused(`Bearer ${unsigned}`, 401, 'invalid-token');
  });

  test('when the token is HS256 signed with the published public key, then 401 and no order is written', async () => {
    const real = partsOf((await newCustomer()).accessToken);
    const jwks = (await inject({ method: 'GET', url: '/.well-known/jwks.json' })).json<{ keys: JWK[] }>();
    const published = jwks.keys.find((key) => key.kid === real.header.kid);
    assert.ok(published, 'the real key is published');
    const pem = createPublicKey({ key: published, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    for (const secret of [new TextEncoder().encode(String(pem)), new TextEncoder().encode(JSON.stringify(published))]) {
      const forged = await new SignJWT(real.payload).setProtectedHeader({ alg: 'HS256', kid: String(real.header.kid), typ: 'JWT' }).sign(secret);
      await assertOrderRefused(`Bearer ${forged}`, 401, 'invalid-token');
    }
  });

  test('when the token comes from an untrusted issuer, then 401 and no order is written', async () => {
    await assertOrderRefused(`Bearer ${await externalToken({ iss: 'https://evil.example.com/' })}`, 401, 'invalid-token');
  });

  test('when the token is for another audience, then 401 and no order is written', async () => {
    await assertOrderRefused(`Bearer ${await externalToken({ aud: 'someone-else' })}`, 401, 'invalid-token');
  });

  test('when the token has expired beyond the clock skew, then 401 and no order is written', async () => {
    const now = Math.floor(Date.now() / 1000);
    await assertOrderRefused(`Bearer ${await externalToken({}, { iat: now - 900, exp: now - 120 })}`, 401, 'invalid-token');
  });

  test('when the token is not valid yet beyond the clock skew, then 401 and no order is written', async () => {
    const now = Math.floor(Date.now() / 1000);
    await assertOrderRefused(`Bearer ${await externalToken({}, { nbf: now + 300, exp: now + 600 })}`, 401, 'invalid-token');
  });

  test('when the token names a key id the issuer does not publish, then 401 and no order is written', async () => {
    const real = partsOf((await newCustomer()).accessToken);
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT(real.payload).setProtectedHeader({ alg: 'ES256', kid: 'unknown-kid', typ: 'JWT' }).sign(privateKey);
    await assertOrderRefused(`Bearer ${forged}`, 401, 'invalid-token');
  });

  test('when the payload of a real token is tampered with, then 401 and no order is written', async () => {
    const token = (await newCustomer()).accessToken;
    const real = partsOf(token);
    const [header] = token.split('.');
    const tampered = `${header ?? ''}.${encodeJson({ ...real.payload, roles: ['customer', 'admin'] })}.${real.signature}`;
    await assertOrderRefused(`Bearer ${tampered}`, 401, 'invalid-token');
    const asAdmin = await inject({ method: 'GET', url: '/v1/jobs', headers: { authorization: `Bearer ${tampered}` } });
    assertProblem(asAdmin, 401, 'invalid-token');
  });

  test('when a refresh token is used after logout, then 401 and no new tokens are issued', async () => {
    const customer = await newCustomer();
    assert.equal((await inject({ method: 'POST', url: '/v1/auth/logout', payload: { refreshToken: customer.refreshToken } })).statusCode, 204);
    const response = await inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: customer.refreshToken } });
    assertProblem(response, 401, 'invalid-refresh-token');
    assert.equal(response.json<{ accessToken?: string }>().accessToken, undefined);
  });

  test('when a used refresh token is reused, then 401 and the whole family is revoked: the newer token stops working too', async () => {
    const customer = await newCustomer();
    const rotated = await inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: customer.refreshToken } });
    assert.equal(rotated.statusCode, 200, rotated.body);
    const newer = rotated.json<TokenPair>();
    assertProblem(await inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: customer.refreshToken } }), 401, 'refresh-token-reused');
    assertProblem(await inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: newer.refreshToken } }), 401, 'invalid-refresh-token');
  });

  test('when a customer calls admin routes, then 403 and nothing is written', async () => {
    const customer = await newCustomer();
    const asCustomer = { authorization: `Bearer ${customer.accessToken}` };
    const created = await inject({ method: 'POST', url: '/v1/products', headers: asCustomer, payload: { sku: 'REJECT-SNEAKY', name: 'Sneaky', price: { amount: 1, currency: 'EUR' } } });
    assertProblem(created, 403, 'forbidden');
    const products = await sql<{ count: number }>`select count(*)::int as count from catalog.products where sku = 'REJECT-SNEAKY'`.execute(harness.db);
    assert.equal(products.rows[0]?.count, 0);
    assertProblem(await inject({ method: 'PUT', url: '/v1/inventory/REJECT-1', headers: asCustomer, payload: { onHand: 0 } }), 403, 'forbidden');
    const stock = await inject({ method: 'GET', url: '/v1/inventory/REJECT-1', headers: { authorization: `Bearer ${adminToken}` } });
    assert.ok(stock.json<{ onHand: number }>().onHand > 0);
    assertProblem(await inject({ method: 'GET', url: '/v1/admin/webhooks', headers: asCustomer }), 403, 'forbidden');
  });

  test('when a customer reads another customer\'s order, then 404, not 403, so its existence is not revealed', async () => {
    const owner = await newCustomer();
    const placed = await placeWith({ authorization: `Bearer ${owner.accessToken}` });
    assert.equal(placed.statusCode, 202, placed.body);
    const orderId = placed.json<{ id: string }>().id;
    const stranger = await newCustomer();
    const response = await inject({ method: 'GET', url: `/v1/orders/${orderId}`, headers: { authorization: `Bearer ${stranger.accessToken}` } });
    assert.equal(response.statusCode, 404, response.body);
    assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
    assert.equal((await inject({ method: 'GET', url: `/v1/orders/${orderId}`, headers: { authorization: `Bearer ${owner.accessToken}` } })).statusCode, 200);
  });
});
