import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, mock, test } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { TokenRejectedError, type TokenRejectionReason } from '../../contract.ts';
import { externalUserId, JoseTokenVerifier } from './jose-token-verifier.ts';

/** A key pair a test signs with, and its public JWK as an issuer would publish it. */
interface TestKey { kid: string; alg: 'RS256' | 'ES256'; privateKey: CryptoKey; publicJwk: JWK }

async function testKey(kid: string, alg: 'RS256' | 'ES256'): Promise<TestKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicJwk: { ...await exportJWK(publicKey), kid, alg, use: 'sig' } };
}

const builtInIssuer = 'https://id.orderstream.test';
let server: Server;
let externalIssuer: string;
let published: JWK[] = [];
let jwksFetches = 0;
let builtInKey: TestKey;
let rsaKey: TestKey;
let ecKey: TestKey;
let verifier: JoseTokenVerifier;

before(async () => {
  [builtInKey, rsaKey, ecKey] = await Promise.all([testKey('builtin-1', 'ES256'), testKey('rsa-1', 'RS256'), testKey('ec-1', 'ES256')]);
  published = [rsaKey.publicJwk, ecKey.publicJwk];
  server = createServer((request, response) => {
    if (request.url !== '/realms/shop/certs') {
      response.writeHead(404).end();
      return;
    }
    jwksFetches += 1;
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  externalIssuer = `http://127.0.0.1:${port}/realms/shop`;
  verifier = new JoseTokenVerifier({
    builtIn: { issuer: builtInIssuer, audience: 'orderstream-api', loadKeys: () => Promise.resolve([builtInKey.publicJwk]) },
    external: [{
      issuer: externalIssuer, jwksUrl: `${externalIssuer}/certs`, audience: 'orderstream', rolesClaim: 'realm_access.roles',
      roleMapping: { 'shop-admin': 'admin', 'shop-customer': 'customer' },
    }],
    clockSkewSeconds: 30,
    jwksCooldownMs: 0,
  });
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const nowSeconds = () => Math.floor(Date.now() / 1000);

function sign(key: TestKey, claims: JWTPayload, options: { iss?: string; aud?: string; iat?: number; exp?: number; nbf?: number } = {}): Promise<string> {
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
    .setIssuer(options.iss ?? externalIssuer)
    .setAudience(options.aud ?? 'orderstream')
    .setSubject('user-42')
    .setIssuedAt(options.iat ?? nowSeconds())
    .setExpirationTime(options.exp ?? nowSeconds() + 300);
  if (options.nbf !== undefined) jwt.setNotBefore(options.nbf);
  return jwt.sign(key.privateKey);
}

async function rejection(token: string): Promise<TokenRejectionReason> {
  try {
    await verifier.verify(token);
  } catch (error) {
    if (error instanceof TokenRejectedError) return error.reason;
    throw error;
  }
  assert.fail('the token was accepted');
}

function unsignedToken(header: Record<string, unknown>, payload: Record<string, unknown>): string {
  const encode = (part: Record<string, unknown>) => Buffer.from(JSON.stringify(part)).toString('base64url');
  return `${encode(header)}.${encode(payload)}.`;
}

describe('external issuer', () => {
  test('when an RS256 token from the trusted issuer has a mapped role, then the principal has that role, an issuer-scoped id and the email', async () => {
    const token = await sign(rsaKey, { email: 'ada@example.com', realm_access: { roles: ['shop-admin', 'offline_access'] } });
    const principal = await verifier.verify(token);
    const { id, email, roles, issuer } = principal;
    assert.deepEqual({ id, email, roles, issuer }, { id: externalUserId(externalIssuer, 'user-42'), email: 'ada@example.com', roles: ['admin'], issuer: externalIssuer });
    assert.match(principal.id, /^ext:[A-Za-z0-9_-]{22}:user-42$/);
  });

  test('when an ES256 token maps no role, then the principal is a customer', async () => {
    const principal = await verifier.verify(await sign(ecKey, { realm_access: { roles: ['unrelated'] } }));
    assert.deepEqual(principal.roles, ['customer']);
    assert.equal(principal.email, '');
  });

  test('when the issuer rotates to a key not seen yet, then the JWKS is fetched again and the token verifies', async () => {
    await verifier.verify(await sign(rsaKey, {}));
    const rotated = await testKey('rsa-2', 'RS256');
    published = [rotated.publicJwk, rsaKey.publicJwk, ecKey.publicJwk];
    const fetchesBefore = jwksFetches;
    const principal = await verifier.verify(await sign(rotated, {}));
    assert.equal(principal.id.endsWith(':user-42'), true);
    assert.equal(jwksFetches, fetchesBefore + 1);
  });

  test('when the token names a key the issuer does not publish even after a refetch, then it is refused as unknown key', async () => {
    const stranger = await testKey('never-published', 'ES256');
    assert.equal(await rejection(await sign(stranger, {})), 'unknown-key');
  });

  test('when the audience, issuer, expiry or not-before are wrong beyond the skew, then each is refused with its reason', async () => {
    assert.equal(await rejection(await sign(rsaKey, {}, { aud: 'someone-else' })), 'wrong-audience');
    assert.equal(await rejection(await sign(rsaKey, {}, { iss: 'https://evil.example' })), 'unknown-issuer');
    assert.equal(await rejection(await sign(rsaKey, {}, { iat: nowSeconds() - 600, exp: nowSeconds() - 31 })), 'expired');
    assert.equal(await rejection(await sign(rsaKey, {}, { nbf: nowSeconds() + 60 })), 'not-yet-valid');
  });

  test('when expiry or not-before are off by less than the skew, then the token is accepted', async () => {
    await verifier.verify(await sign(rsaKey, {}, { iat: nowSeconds() - 600, exp: nowSeconds() - 10 }));
    await verifier.verify(await sign(rsaKey, {}, { nbf: nowSeconds() + 10 }));
  });

  test('when the payload is changed after signing, then the signature is refused', async () => {
    const [header, , signature] = (await sign(rsaKey, { realm_access: { roles: [] } })).split('.');
    const forged = Buffer.from(JSON.stringify({ iss: externalIssuer, aud: 'orderstream', sub: 'user-42', exp: nowSeconds() + 300, realm_access: { roles: ['shop-admin'] } })).toString('base64url');
    assert.equal(await rejection(`${header}.${forged}.${signature}`), 'bad-signature');
  });

  test('when the token says alg none, or is HS256 signed with the issuer\'s public key, then the algorithm is refused before any key is used', async () => {
    const claims = { iss: externalIssuer, aud: 'orderstream', sub: 'user-42', exp: nowSeconds() + 300 };
    assert.equal(await rejection(unsignedToken({ alg: 'none', typ: 'JWT' }, claims)), 'algorithm-not-allowed');
    const publicKeyBytes = new TextEncoder().encode(JSON.stringify(rsaKey.publicJwk));
    const hs256 = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' }).sign(publicKeyBytes);
    assert.equal(await rejection(hs256), 'algorithm-not-allowed');
  });

  test('when the token is not a JWT at all, then it is refused as malformed', async () => {
    assert.equal(await rejection('not-a-token'), 'malformed');
    assert.equal(await rejection('a.b.c'), 'malformed');
  });
});

describe('external user ids', () => {
  test('when two issuers on one host name the same subject, then they are two users, each stable across tokens', async () => {
    const tenants = { a: await testKey('tenant-a-1', 'ES256'), b: await testKey('tenant-b-1', 'ES256') };
    const tenantServer = createServer((request, response) => {
      const tenant = /^\/tenant-(a|b)\/certs$/.exec(request.url ?? '')?.[1] as 'a' | 'b' | undefined;
      if (tenant === undefined) response.writeHead(404).end();
      else response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [tenants[tenant].publicJwk] }));
    });
    await new Promise<void>((resolve) => tenantServer.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(tenantServer.address() as AddressInfo).port}`;
      const tenantVerifier = new JoseTokenVerifier({
        builtIn: { issuer: builtInIssuer, audience: 'orderstream-api', loadKeys: () => Promise.resolve([]) },
        external: (['a', 'b'] as const).map((tenant) => ({ issuer: `${base}/tenant-${tenant}`, jwksUrl: `${base}/tenant-${tenant}/certs`, audience: 'orderstream', rolesClaim: 'roles', roleMapping: {} })),
        clockSkewSeconds: 30,
        cacheSize: 0,
      });
      const alice = async (tenant: 'a' | 'b') => (await tenantVerifier.verify(await sign(tenants[tenant], {}, { iss: `${base}/tenant-${tenant}` }))).id;
      const [fromA, fromB, fromAAgain] = [await alice('a'), await alice('b'), await alice('a')];
      assert.notEqual(fromA, fromB);
      assert.equal(fromA, fromAAgain);
      assert.doesNotMatch(fromA, /^127\.0\.0\.1:/);
    } finally {
      tenantServer.closeAllConnections();
      await new Promise((resolve) => tenantServer.close(resolve));
    }
  });

  test('when subjects or issuers differ only where a separator could hide it, then the ids still differ', () => {
    assert.notEqual(externalUserId('https://id.example.com/a', 'b:c'), externalUserId('https://id.example.com/a:b', 'c'));
    assert.notEqual(externalUserId('https://id.example.com/realm', 'x'), externalUserId('https://id.example.com/realm/', 'x'));
    assert.equal(externalUserId('https://id.example.com/realm', 'x'), externalUserId('https://id.example.com/realm', 'x'));
  });

  test('when the subject is longer than 255 characters or has a control character, then the token is refused', async () => {
    for (const subject of ['s'.repeat(256), 'alice\nadmin']) {
      const token = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: ecKey.kid }).setIssuer(externalIssuer).setAudience('orderstream')
        .setSubject(subject).setIssuedAt().setExpirationTime(nowSeconds() + 300).sign(ecKey.privateKey);
      assert.equal(await rejection(token), 'missing-claims');
    }
    assert.match(externalUserId(externalIssuer, 's'.repeat(255)), /^ext:/);
  });
});

describe('built-in issuer', () => {
  test('when an ES256 token of the built-in issuer carries roles, then the principal has them, its session and when it was issued', async () => {
    const iat = nowSeconds() - 10.25;
    const token = await sign(builtInKey, { roles: ['customer', 'admin', 'superuser'], email: 'grace@example.com', sid: 'rtf_1' }, { iss: builtInIssuer, aud: 'orderstream-api', iat });
    assert.deepEqual(await verifier.verify(token), {
      id: 'user-42', email: 'grace@example.com', emailVerified: false, roles: ['customer', 'admin'], issuer: builtInIssuer,
      sessionId: 'rtf_1', issuedAt: new Date(iat * 1000),
    });
  });

  test('when a token claims the built-in issuer but is RS256 or has no known role, then it is refused', async () => {
    const rsa = await testKey('builtin-1', 'RS256');
    assert.equal(await rejection(await sign(rsa, { roles: ['admin'] }, { iss: builtInIssuer, aud: 'orderstream-api' })), 'algorithm-not-allowed');
    assert.equal(await rejection(await sign(builtInKey, { roles: ['root'] }, { iss: builtInIssuer, aud: 'orderstream-api' })), 'missing-claims');
  });
});

describe('unreachable issuer', () => {
  test('when the external JWKS cannot be fetched, then the token is refused as issuer unavailable', async () => {
    const downIssuer = 'http://127.0.0.1:9/realms/down';
    const offline = new JoseTokenVerifier({
      builtIn: { issuer: builtInIssuer, audience: 'orderstream-api', loadKeys: () => Promise.resolve([]) },
      external: [{ issuer: downIssuer, jwksUrl: `${downIssuer}/certs`, audience: 'orderstream', rolesClaim: 'roles', roleMapping: {} }],
      clockSkewSeconds: 30,
      jwksTimeoutMs: 2000,
    });
    const token = await sign(rsaKey, {}, { iss: downIssuer });
    await assert.rejects(offline.verify(token), (error: unknown) => error instanceof TokenRejectedError && error.reason === 'issuer-unavailable');
  });
});

describe('verified token cache', () => {
  const builtIn = () => ({ issuer: builtInIssuer, audience: 'orderstream-api', loadKeys: () => Promise.resolve([builtInKey.publicJwk]) });
  const builtInToken = (exp: number) => sign(builtInKey, { roles: ['customer'] }, { iss: builtInIssuer, aud: 'orderstream-api', exp });

  test('when a verified token comes again within a minute, then the remembered principal answers without a new check', async () => {
    const cached = new JoseTokenVerifier({ builtIn: builtIn(), external: [], clockSkewSeconds: 30 });
    const token = await builtInToken(nowSeconds() + 300);

    const first = await cached.verify(token);
    const second = await cached.verify(token);

    assert.equal(second, first, 'the same principal object: the token was not verified again');
    assert.ok(Object.isFrozen(first), 'a shared principal cannot be changed by one request for the next');
  });

  test('when a minute has passed, or the token has expired, then it is checked again', async (context) => {
    context.after(() => { mock.timers.reset(); });
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    const cached = new JoseTokenVerifier({ builtIn: builtIn(), external: [], clockSkewSeconds: 30 });
    const longLived = await builtInToken(nowSeconds() + 300);
    const shortLived = await builtInToken(nowSeconds() + 10);
    const firstLong = await cached.verify(longLived);
    const firstShort = await cached.verify(shortLived);

    mock.timers.tick(10_000);
    assert.equal(await cached.verify(longLived), firstLong);
    const shortAgain = await cached.verify(shortLived); // expired, but within the clock skew: checked again and accepted
    assert.notEqual(shortAgain, firstShort);
    mock.timers.tick(51_000);
    assert.notEqual(await cached.verify(longLived), firstLong);
  });

  test('when the cache is off, or a key is rotated in, then every token is checked', async () => {
    const uncached = new JoseTokenVerifier({ builtIn: builtIn(), external: [], clockSkewSeconds: 30, cacheSize: 0 });
    const cached = new JoseTokenVerifier({ builtIn: builtIn(), external: [], clockSkewSeconds: 30 });
    const token = await builtInToken(nowSeconds() + 300);

    assert.notEqual(await uncached.verify(token), await uncached.verify(token));
    const first = await cached.verify(token);
    cached.forgetBuiltInKeys();
    assert.notEqual(await cached.verify(token), first);
  });

  test('when a token is refused, then it is refused again the next time too', async () => {
    const cached = new JoseTokenVerifier({ builtIn: builtIn(), external: [], clockSkewSeconds: 30 });
    const token = await sign(builtInKey, { roles: ['customer'] }, { iss: builtInIssuer, aud: 'someone-else' });

    for (let attempt = 0; attempt < 2; attempt += 1) {
      await assert.rejects(cached.verify(token), (error: unknown) => error instanceof TokenRejectedError && error.reason === 'wrong-audience');
    }
  });
});
