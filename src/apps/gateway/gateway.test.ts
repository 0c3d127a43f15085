import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { loadConfig } from '../../platform/config/config.ts';
import { bodyDigest, streamedBody, verifyPrincipal } from '../../platform/http/gateway-signature.ts';
import { createLogger } from '../../platform/logging/logger.ts';
import { createGateway, type Gateway } from './gateway.ts';

const secret = 'gateway-test-secret-0123456789-0123456789';
const issuer = 'http://127.0.0.1:8080';
const audience = 'orderstream-api';

interface Seen {
  method: string;
  url: string;
  body: string;
  headers: IncomingHttpHeaders;
  caller: string | null;
  roles: readonly string[];
}

/**
 * A service behind the gateway, as a real HTTP server: it publishes the signing key as identity
 * does, and answers every other request with what it received and the caller the gateway signed.
 */
let upstream: Server;
let upstreamUrl: string;
const seen: Seen[] = [];
let signingKey: CryptoKey;
let gateway: Gateway;

before(async () => {
  const pair = await generateKeyPair('ES256');
  signingKey = pair.privateKey;
  const jwk = { ...await exportJWK(pair.publicKey), kid: 'key-1', alg: 'ES256', use: 'sig' };
  upstream = createServer((request, response) => {
    // The gateway's health probes, unsigned as a service lets them be.
    if (request.url === '/readyz') {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ready"}');
      return;
    }
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const statement = verifyPrincipal({
        headers: request.headers, method: request.method ?? '', url: request.url ?? '', requestId: String(request.headers['x-request-id']), secret, validitySeconds: 30, clockSkewSeconds: 5,
      });
      const received = Buffer.concat(chunks);
      if (statement.body !== streamedBody && statement.body !== bodyDigest(received.length === 0 ? undefined : received)) throw new Error('the statement is for another body');
      const { principal } = statement;
      if (request.url === '/.well-known/jwks.json') {
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
        return;
      }
      seen.push({
        method: request.method ?? '', url: request.url ?? '', body: Buffer.concat(chunks).toString('utf8'), headers: request.headers,
        caller: principal?.id ?? null, roles: principal?.roles ?? [],
      });
      response.writeHead(request.url === '/v1/orders/missing' ? 404 : 200, { 'content-type': 'application/json', 'x-served-by': 'upstream' });
      response.end(JSON.stringify({ ok: true }));
    });
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  gateway = createGateway({
    config: loadConfig({
      GATEWAY_SECRET: secret, GATEWAY_UPSTREAMS: `*=${upstreamUrl}`, IDENTITY_ISSUER: issuer, IDENTITY_AUDIENCE: audience,
      RATE_LIMIT_BURST: '40', RATE_LIMIT_PER_SECOND: '0.1', LOG_LEVEL: 'silent',
    }),
    logger: createLogger({ level: 'silent' }),
  });
});

after(async () => {
  await gateway.close();
  upstream.closeAllConnections();
  upstream.close();
});

function token(claims: { sub: string; roles: string[] }): Promise<string> {
  return new SignJWT({ roles: claims.roles, email: `${claims.sub}@example.com` })
    .setProtectedHeader({ alg: 'ES256', kid: 'key-1' })
    .setIssuer(issuer).setAudience(audience).setSubject(claims.sub).setIssuedAt().setExpirationTime('5m').setJti(crypto.randomUUID())
    .sign(signingKey);
}

describe('the gateway in front of HTTP services', () => {
  test('when a customer calls with a valid token, then the service receives the verified caller, the path, query and body unchanged, and no client credentials', async () => {
    seen.length = 0;
    const body = '{"lines":[{"sku":"A-1","quantity":2}],"note":"é"}';
    const response = await gateway.app.inject({
      method: 'POST', url: '/v1/orders?expand=lines',
      headers: {
        authorization: `Bearer ${await token({ sub: 'usr_ada', roles: ['customer'] })}`, 'content-type': 'application/json', 'idempotency-key': 'key-1',
        'x-dev-customer-id': 'mallory', 'x-orderstream-principal': 'forged', 'x-request-id': 'req-gateway-1',
      },
      payload: body,
    });
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['x-served-by'], 'upstream');
    assert.equal(response.headers['x-request-id'], 'req-gateway-1');
    assert.equal(seen.length, 1);
    const request = seen[0];
    assert.ok(request !== undefined);
    assert.equal(request.method, 'POST');
    assert.equal(request.url, '/v1/orders?expand=lines');
    assert.equal(request.body, body);
    assert.equal(request.caller, 'usr_ada');
    assert.deepEqual(request.roles, ['customer']);
    assert.equal(request.headers['idempotency-key'], 'key-1');
    assert.equal(request.headers['x-request-id'], 'req-gateway-1');
    assert.equal(request.headers.authorization, undefined);
    assert.equal(request.headers['x-dev-customer-id'], undefined);
  });

  test('when a request is refused at the edge (no token, bad token, wrong role, bad body type), then the service is never called', async () => {
    seen.length = 0;
    const customer = `Bearer ${await token({ sub: 'usr_ada', roles: ['customer'] })}`;
    const forged = `${customer.slice(0, -4)}AAAA`;
    const refusals = [
      await gateway.app.inject({ method: 'GET', url: '/v1/orders' }),
      await gateway.app.inject({ method: 'GET', url: '/v1/orders', headers: { authorization: forged } }),
      await gateway.app.inject({ method: 'POST', url: '/v1/products', headers: { authorization: customer, 'content-type': 'application/json' }, payload: '{}' }),
      await gateway.app.inject({ method: 'POST', url: '/v1/orders', headers: { authorization: customer, 'content-type': 'text/plain' }, payload: 'hello' }),
    ];
    assert.deepEqual(refusals.map((response) => response.statusCode), [401, 401, 403, 415]);
    for (const response of refusals) assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
    assert.equal(seen.length, 0);
  });

  test('when the service answers an error, then its status and body reach the client as they are', async () => {
    const response = await gateway.app.inject({ method: 'GET', url: '/v1/orders/missing', headers: { authorization: `Bearer ${await token({ sub: 'usr_ada', roles: ['customer'] })}` } });
    assert.equal(response.statusCode, 404);
  });

  test('when an anonymous caller reaches a public route, then the service gets a signed statement that nobody is signed in', async () => {
    seen.length = 0;
    assert.equal((await gateway.app.inject({ method: 'GET', url: '/v1/products/prd_1' })).statusCode, 200);
    assert.equal(seen[0]?.caller, null);
  });

  test('when a client exceeds its rate limit, then it gets 429 with Retry-After and the service is not called', async () => {
    seen.length = 0;
    const statuses: number[] = [];
    for (let index = 0; index < 45; index += 1) statuses.push((await gateway.app.inject({ method: 'GET', url: '/v1/products', remoteAddress: '192.0.2.50' })).statusCode);
    const limited = statuses.filter((status) => status === 429).length;
    assert.ok(limited >= 5, `some were limited (${limited})`);
    assert.equal(seen.length, statuses.length - limited);
    const refused = await gateway.app.inject({ method: 'GET', url: '/v1/products', remoteAddress: '192.0.2.50' });
    assert.equal(refused.statusCode, 429);
    assert.ok(Number(refused.headers['retry-after']) >= 1);
  });
});
