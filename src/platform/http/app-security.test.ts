import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createLogger } from '../logging/logger.ts';
import { createHttpApp, type HttpApp } from './app.ts';
import { MemoryRateLimiter, TokenRejectedError, type RoutePolicy } from './edge.ts';

const policies: RoutePolicy[] = [
  { method: 'GET', url: '/healthz', access: 'public', upstream: 'things' },
  { method: 'GET', url: '/readyz', access: 'public', upstream: 'things' },
  { method: 'GET', url: '/openapi.json', access: 'public', upstream: 'things' },
  { method: 'GET', url: '/docs', access: 'public', upstream: 'things' },
  { method: 'GET', url: '/docs/*', access: 'public', upstream: 'things' },
  { method: 'GET', url: '/things', access: 'customer', upstream: 'things' },
  { method: 'POST', url: '/auth/login', access: 'public', rateLimit: 'auth', upstream: 'things' },
];

function securedApp(options: { corsOrigins?: string[]; authBurst?: number } = {}): { app: HttpApp; handled: string[] } {
  const logger = createLogger({ level: 'silent' });
  const handled: string[] = [];
  const app = createHttpApp({
    logger, bodyLimit: 1000, readiness: [], securityHeaders: true, corsOrigins: options.corsOrigins ?? [],
    edge: {
      policies, logger, bodyLimit: 1000,
      verifier: { verify: () => Promise.reject(new TokenRejectedError('test')) },
      rateLimiter: new MemoryRateLimiter({ burst: 100, perSecond: 1 }),
      authRateLimiter: new MemoryRateLimiter({ burst: options.authBurst ?? 100, perSecond: 0.1 }),
    },
    routes: [(scoped) => {
      scoped.get('/things', () => { handled.push('things'); return { ok: true }; });
      scoped.post('/auth/login', () => { handled.push('login'); return { ok: true }; });
    }],
  });
  return { app, handled };
}

describe('security headers and CORS', () => {
  test('when a request is served or refused by the edge, then both carry the security headers', async () => {
    const { app } = securedApp();
    for (const response of [await app.inject({ method: 'GET', url: '/healthz' }), await app.inject({ method: 'GET', url: '/things' })]) {
      assert.equal(response.headers['x-content-type-options'], 'nosniff');
      assert.equal(response.headers['x-frame-options'], 'SAMEORIGIN');
      assert.match(String(response.headers['content-security-policy']), /default-src 'none'/);
      assert.ok(response.headers['strict-transport-security']);
      assert.equal(response.headers['cross-origin-opener-policy'], 'same-origin');
      assert.equal(response.headers['cross-origin-resource-policy'], 'same-origin');
      assert.equal(response.headers['referrer-policy'], 'no-referrer');
      assert.equal(response.headers['x-xss-protection'], '0');
      assert.equal(response.headers['x-powered-by'], undefined);
    }
  });

  test('when /docs/ is opened, then it answers 200 with a policy that allows the page\'s own scripts', async () => {
    const { app } = securedApp();
    const page = await app.inject({ method: 'GET', url: '/docs/' });
    assert.equal(page.statusCode, 200, page.body);
    const policy = String(page.headers['content-security-policy']);
    assert.match(policy, /script-src 'self'/);
    assert.doesNotMatch(policy, /upgrade-insecure-requests/);
    const scripts = [...page.body.matchAll(/<script([^>]*)>([^<]*)<\/script>/g)];
    assert.ok(scripts.length > 0);
    for (const [, attributes, inline] of scripts) {
      const source = /src="([^"]+)"/.exec(attributes ?? '')?.[1];
      assert.ok(source !== undefined && !/^[a-z]+:/i.test(source) && (inline ?? '').trim() === '', `script must be same-origin and external: ${attributes ?? ''}`);
      const script = await app.inject({ method: 'GET', url: new URL(source, 'http://localhost/docs/').pathname });
      assert.equal(script.statusCode, 200, source);
    }
  });

  test('when CORS origins are configured, then an allowed origin gets CORS headers, also on a refusal, and a preflight passes', async () => {
    const { app, handled } = securedApp({ corsOrigins: ['https://shop.example.com'] });
    const refused = await app.inject({ method: 'GET', url: '/things', headers: { origin: 'https://shop.example.com' } });
    assert.equal(refused.statusCode, 401);
    assert.equal(refused.headers['access-control-allow-origin'], 'https://shop.example.com');
    assert.match(String(refused.headers['access-control-expose-headers']), /ratelimit-remaining/);
    const preflight = await app.inject({
      method: 'OPTIONS', url: '/things',
      headers: { origin: 'https://shop.example.com', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    assert.equal(preflight.statusCode, 204);
    assert.match(String(preflight.headers['access-control-allow-headers']), /authorization/);
    const stranger = await app.inject({ method: 'GET', url: '/healthz', headers: { origin: 'https://evil.example.com' } });
    assert.equal(stranger.headers['access-control-allow-origin'], undefined);
    assert.deepEqual(handled, []);
  });

  test('when no CORS origins are configured, then no CORS headers are sent', async () => {
    const { app } = securedApp();
    const response = await app.inject({ method: 'GET', url: '/healthz', headers: { origin: 'https://shop.example.com' } });
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['access-control-allow-origin'], undefined);
  });

  test('when an auth route exceeds its own bucket, then it gets 429 while the other routes still pass', async () => {
    const { app, handled } = securedApp({ authBurst: 2 });
    assert.equal((await app.inject({ method: 'POST', url: '/auth/login' })).statusCode, 200);
    const last = await app.inject({ method: 'POST', url: '/auth/login' });
    assert.equal(last.headers['ratelimit-limit'], '2');
    assert.equal(last.headers['ratelimit-remaining'], '0');
    const limited = await app.inject({ method: 'POST', url: '/auth/login' });
    assert.equal(limited.statusCode, 429);
    assert.ok(Number(limited.headers['retry-after']) >= 1);
    const other = await app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(other.statusCode, 200);
    assert.equal(other.headers['ratelimit-limit'], '100');
    assert.deepEqual(handled, ['login', 'login']);
  });
});
