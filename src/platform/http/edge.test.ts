import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { InjectOptions } from 'fastify';
import { createLogger } from '../logging/logger.ts';
import { createHttpApp, type HttpApp } from './app.ts';
import { MemoryRateLimiter, TokenRejectedError, type RoutePolicy, type TokenVerifier } from './edge.ts';
import { principalOf, type Principal } from './principal.ts';

const principals: Record<string, Principal> = {
  'customer-token': { id: 'cus_1', email: 'c@example.com', roles: ['customer'] },
  'admin-token': { id: 'adm_1', email: 'a@example.com', roles: ['customer', 'admin'] },
};

/** Accepts the two tokens above; counts how often it was asked. */
class CountingVerifier implements TokenVerifier {
  calls = 0;
  verify(token: string): Promise<Principal> {
    this.calls += 1;
    const principal = principals[token];
    return principal === undefined ? Promise.reject(new TokenRejectedError('unknown token')) : Promise.resolve(principal);
  }
}

const policies: RoutePolicy[] = [
  { method: 'GET', url: '/healthz', access: 'public', upstream: 'things' },
  { method: 'GET', url: '/readyz', access: 'public', upstream: 'things' },
  { method: 'GET', url: '/openapi.json', access: 'public', upstream: 'things' },
  { method: 'GET', url: '/docs*', access: 'public', upstream: 'things' },
  { method: 'GET', url: '/things', access: 'public', upstream: 'things' },
  { method: 'POST', url: '/things', access: 'customer', upstream: 'things' },
  { method: 'DELETE', url: '/things/:id', access: 'admin', upstream: 'things' },
  { method: 'PUT', url: '/uploads', access: 'public', upstream: 'things', upload: true },
];

function edgeApp(options: { burst?: number } = {}): { app: HttpApp; verifier: CountingVerifier; handled: string[] } {
  const verifier = new CountingVerifier();
  const handled: string[] = [];
  const app = createHttpApp({
    logger: createLogger({ level: 'silent' }), bodyLimit: 1000, readiness: [],
    edge: {
      policies, verifier, rateLimiter: new MemoryRateLimiter({ burst: options.burst ?? 100, perSecond: 1 }), bodyLimit: 1000, uploadBodyLimit: 5000,
      logger: createLogger({ level: 'silent' }),
    },
    routes: [(scoped) => {
      scoped.addContentTypeParser('multipart/form-data', { parseAs: 'buffer', bodyLimit: 5000 }, (_request, body, parsed) => { parsed(null, body); });
      scoped.put('/uploads', { bodyLimit: 5000 }, () => { handled.push('upload'); return { ok: true }; });
      scoped.get('/things', () => { handled.push('list'); return { ok: true }; });
      scoped.post('/things', (request) => { handled.push(`create by ${principalOf(request, { devIdentityHeaders: false })?.id ?? 'nobody'}`); return { ok: true }; });
      scoped.delete('/things/:id', () => { handled.push('delete'); return { ok: true }; });
    }],
  });
  return { app, verifier, handled };
}

describe('the edge', () => {
  test('when a public route is called without a token, then it is served', async () => {
    const { app, handled } = edgeApp();
    assert.equal((await app.inject({ method: 'GET', url: '/things' })).statusCode, 200);
    assert.deepEqual(handled, ['list']);
  });

  test('when a customer calls a customer route with a valid token, then the handler sees the verified principal', async () => {
    const { app, handled } = edgeApp();
    const response = await app.inject({ method: 'POST', url: '/things', headers: { authorization: 'Bearer customer-token' }, payload: { a: 1 } });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(handled, ['create by cus_1']);
  });

  const refusals: { when: string; request: InjectOptions; status: number; verifierCalls: number }[] = [
    { when: 'the declared body is larger than the limit', request: { method: 'POST', url: '/things', headers: { authorization: 'Bearer customer-token', 'content-type': 'application/json', 'content-length': '5000' }, payload: 'x'.repeat(5000) }, status: 413, verifierCalls: 0 },
    { when: 'the body is not JSON', request: { method: 'POST', url: '/things', headers: { authorization: 'Bearer customer-token', 'content-type': 'text/plain' }, payload: 'hello' }, status: 415, verifierCalls: 0 },
    { when: 'the token is not valid', request: { method: 'POST', url: '/things', headers: { authorization: 'Bearer forged' }, payload: { a: 1 } }, status: 401, verifierCalls: 1 },
    { when: 'the authorization header is not a bearer token', request: { method: 'POST', url: '/things', headers: { authorization: 'Basic abc' }, payload: { a: 1 } }, status: 401, verifierCalls: 0 },
    { when: 'no token is sent to a customer route', request: { method: 'POST', url: '/things', payload: { a: 1 } }, status: 401, verifierCalls: 0 },
    { when: 'a customer calls an admin route', request: { method: 'DELETE', url: '/things/1', headers: { authorization: 'Bearer customer-token' } }, status: 403, verifierCalls: 1 },
  ];
  for (const { when, request, status, verifierCalls } of refusals) {
    test(`when ${when}, then ${status} problem+json and no handler runs`, async () => {
      const { app, verifier, handled } = edgeApp();
      const response = await app.inject(request);
      assert.equal(response.statusCode, status, response.body);
      assert.match(response.headers['content-type'] ?? '', /^application\/problem\+json/);
      assert.deepEqual(handled, []);
      assert.equal(verifier.calls, verifierCalls);
    });
  }

  test('when a route\'s policy says upload, then its body may reach the upload limit, while every other route refuses a body over the body limit before any handler runs', async () => {
    const { app, handled } = edgeApp();
    const json = (bytes: number) => JSON.stringify({ padding: 'x'.repeat(bytes - 14) });
    const multipart = { 'content-type': 'multipart/form-data; boundary=b' };
    const upload = await app.inject({ method: 'PUT', url: '/uploads', headers: multipart, payload: 'x'.repeat(3000) });
    assert.equal(upload.statusCode, 200, upload.body);
    const ordinary = await app.inject({ method: 'POST', url: '/things', headers: { authorization: 'Bearer customer-token', 'content-type': 'application/json' }, payload: json(3000) });
    assert.equal(ordinary.statusCode, 413);
    assert.match(ordinary.json<{ detail: string }>().detail, /At most 1000 bytes/);
    const tooLarge = await app.inject({ method: 'PUT', url: '/uploads', headers: multipart, payload: 'x'.repeat(6000) });
    assert.equal(tooLarge.statusCode, 413);
    assert.match(tooLarge.json<{ detail: string }>().detail, /At most 5000 bytes/);
    assert.deepEqual(handled, ['upload']);
  });

  test('when an upload route gets a body that is not multipart/form-data, then 415 before any of it is read or any handler runs', async () => {
    const { app, handled } = edgeApp();
    const response = await app.inject({ method: 'PUT', url: '/uploads', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ file: 'x' }) });
    assert.equal(response.statusCode, 415);
    assert.match(response.json<{ detail: string }>().detail, /multipart\/form-data/);
    assert.deepEqual(handled, []);
  });

  test('when a client exceeds its burst, then 429 with Retry-After, before its token is even checked', async () => {
    const { app, verifier, handled } = edgeApp({ burst: 3 });
    for (let index = 0; index < 3; index += 1) assert.equal((await app.inject({ method: 'GET', url: '/things' })).statusCode, 200);
    const limited = await app.inject({ method: 'POST', url: '/things', headers: { authorization: 'Bearer customer-token' }, payload: { a: 1 } });
    assert.equal(limited.statusCode, 429);
    assert.ok(Number(limited.headers['retry-after']) >= 1);
    assert.equal(limited.headers['ratelimit-limit'], '3');
    assert.equal(limited.headers['ratelimit-remaining'], '0');
    assert.ok(Number(limited.headers['ratelimit-reset']) >= 1);
    assert.equal(verifier.calls, 0);
    assert.equal(handled.length, 3);
  });

  test('when a route has no policy, then the app refuses to start', async () => {
    await assert.rejects(async () => {
      const app = createHttpApp({
        logger: createLogger({ level: 'silent' }), bodyLimit: 1000, readiness: [],
        edge: { policies, verifier: new CountingVerifier(), rateLimiter: new MemoryRateLimiter({ burst: 10, perSecond: 1 }), bodyLimit: 1000, logger: createLogger({ level: 'silent' }) },
        routes: [(scoped) => { scoped.get('/secret', () => 'oops'); }],
      });
      await app.ready();
    }, /No edge policy for GET \/secret/);
  });
});

describe('MemoryRateLimiter', () => {
  test('when time passes, then the bucket refills at the configured rate', async () => {
    let now = 0;
    const limiter = new MemoryRateLimiter({ burst: 2, perSecond: 1, now: () => now });
    assert.equal((await limiter.take('ip')).allowed, true);
    assert.equal((await limiter.take('ip')).allowed, true);
    assert.deepEqual(await limiter.take('ip'), { allowed: false, limit: 2, remaining: 0, resetSeconds: 2, retryAfterSeconds: 1 });
    assert.equal((await limiter.take('other-ip')).allowed, true);
    now = 1000;
    assert.equal((await limiter.take('ip')).allowed, true);
  });
});
