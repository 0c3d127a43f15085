import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { createLogger } from '../logging/logger.ts';
import { createHttpApp, type HttpApp } from './app.ts';
import { bodyDigest, GatewaySignatureError, principalHeader, signatureHeader, signPrincipal, streamedBody, verifyPrincipal } from './gateway-signature.ts';
import type { Principal } from './principal.ts';

const secret = 'a-secret-shared-by-gateway-and-services-0123456789';
const ada: Principal = { id: 'usr_1', email: 'ada@example.com', roles: ['customer'] };
const admin: Principal = { id: 'usr_0', email: 'root@example.com', roles: ['customer', 'admin'] };
const now = new Date('2026-11-26T12:00:00Z');
const window = { validitySeconds: 30, clockSkewSeconds: 5 };

function rejection(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof GatewaySignatureError) return error.reason;
    throw error;
  }
  return 'accepted';
}

function statementOf(headers: Record<string, string>): Record<string, unknown> {
  return JSON.parse(Buffer.from(headers[principalHeader] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('gateway signature', () => {
  test('when the gateway signs a caller for a request, then the service reads back the caller, client address, nonce, expiry and body digest', () => {
    const body = Buffer.from('{"sku":"A-1"}');
    const headers = signPrincipal({ principal: ada, requestId: 'req-1', clientAddress: '203.0.113.7', secret, method: 'POST', path: '/v1/orders?expand=lines', body, now });
    const verified = verifyPrincipal({ headers, method: 'POST', url: '/v1/orders?expand=lines', requestId: 'req-1', secret, ...window, now });
    assert.deepEqual({ principal: verified.principal, clientAddress: verified.clientAddress, body: verified.body }, { principal: ada, clientAddress: '203.0.113.7', body: bodyDigest(body) });
    assert.equal(verified.nonce, statementOf(headers).nonce);
    assert.equal(verified.expiresAtMs, now.getTime() + 35_000);
    const anonymous = signPrincipal({ principal: undefined, requestId: 'req-2', clientAddress: '::1', secret, method: 'GET', path: '/v1/products', body: undefined, now });
    const read = verifyPrincipal({ headers: anonymous, method: 'GET', url: '/v1/products', requestId: 'req-2', secret, ...window, now });
    assert.deepEqual({ principal: read.principal, clientAddress: read.clientAddress, body: read.body }, { principal: undefined, clientAddress: '::1', body: bodyDigest(Buffer.alloc(0)) });
  });

  test('when GATEWAY_SECRET is rotated, then a statement signed with the current or the previous secret is accepted, one signed with both by a service too, and any other refused', () => {
    const previous = 'the-secret-being-rotated-out-0123456789-abcdef';
    const stranger = 'a-secret-nobody-was-given-0123456789-abcdefgh';
    const verify = (headers: Record<string, string>, keys: { secret: string; previousSecret?: string }) => rejection(() => verifyPrincipal({
      headers, method: 'GET', url: '/v1/orders', requestId: 'req-1', ...keys, ...window, now,
    }));
    const signedWith = (key: string, previousSecret?: string) => signPrincipal({ principal: ada, requestId: 'req-1', clientAddress: '::1', secret: key, previousSecret, method: 'GET', path: '/v1/orders', body: undefined, now });
    assert.equal(verify(signedWith(secret), { secret, previousSecret: previous }), 'accepted');
    assert.equal(verify(signedWith(previous), { secret, previousSecret: previous }), 'accepted');
    assert.equal(verify(signedWith(previous), { secret }), 'bad-signature', 'once the previous secret is dropped');
    assert.equal(verify(signedWith(stranger), { secret, previousSecret: previous }), 'bad-signature');
    const both = signedWith(secret, previous);
    assert.match(both[signatureHeader] ?? '', /^[A-Za-z0-9_-]{43},[A-Za-z0-9_-]{43}$/);
    assert.equal(verify(both, { secret: previous }), 'accepted', 'a callee not yet given the new secret');
    assert.equal(verify(both, { secret }), 'accepted', 'a callee already on the new secret alone');
    const padded = { ...both, [signatureHeader]: `${signedWith(stranger)[signatureHeader] ?? ''},${both[signatureHeader] ?? ''}` };
    assert.equal(verify(padded, { secret }), 'bad-signature', 'more than two signatures are refused, whatever they hold');
  });

  test('when the same request is signed twice, then each statement has its own 128-bit nonce', () => {
    const sign = () => statementOf(signPrincipal({ principal: ada, requestId: 'req-1', clientAddress: '::1', secret, method: 'GET', path: '/v1/orders', body: undefined, now }));
    const nonces = new Set(Array.from({ length: 50 }, () => sign().nonce));
    assert.equal(nonces.size, 50);
    for (const nonce of nonces) assert.equal(Buffer.from(String(nonce), 'base64url').length, 16);
  });

  test('when the statement is missing, forged, edited, or for another request id, method, URL or query, then it is refused with the reason', () => {
    const headers = signPrincipal({ principal: ada, requestId: 'req-1', clientAddress: '203.0.113.7', secret, method: 'GET', path: '/v1/admin/webhooks?limit=5', body: undefined, now });
    const verify = (given: Record<string, string>, options: { requestId?: string; method?: string; url?: string; key?: string } = {}) => rejection(() => verifyPrincipal({
      headers: given, method: options.method ?? 'GET', url: options.url ?? '/v1/admin/webhooks?limit=5', requestId: options.requestId ?? 'req-1',
      secret: options.key ?? secret, ...window, now,
    }));
    assert.equal(verify(headers), 'accepted');
    assert.equal(verify({}), 'missing');
    assert.equal(verify(headers, { key: 'another-secret-of-the-same-length-0123456789ab' }), 'bad-signature');
    const edited = Buffer.from(JSON.stringify({ ...statementOf(headers), principal: admin })).toString('base64url');
    assert.equal(verify({ ...headers, [principalHeader]: edited }), 'bad-signature');
    assert.equal(verify(headers, { requestId: 'req-2' }), 'other-request');
    assert.equal(verify(headers, { method: 'POST' }), 'other-method');
    assert.equal(verify(headers, { method: 'DELETE' }), 'other-method');
    assert.equal(verify(headers, { url: '/v1/products' }), 'other-url');
    assert.equal(verify(headers, { url: '/v1/admin/webhooks?limit=500' }), 'other-url');
    assert.equal(verify(headers, { url: '/v1/admin/webhooks' }), 'other-url');
    const garbage = Buffer.from('{"rid":"req-1"').toString('base64url');
    assert.equal(verify({ [principalHeader]: garbage, [signatureHeader]: createHmac('sha256', secret).update(garbage).digest('base64url') }), 'malformed');
    // A statement in the old form (no nonce, method, URL or body), even correctly signed, is not accepted.
    const old = Buffer.from(JSON.stringify({ rid: 'req-1', iat: now.getTime() / 1000, ip: '203.0.113.7', principal: ada })).toString('base64url');
    assert.equal(verify({ [principalHeader]: old, [signatureHeader]: createHmac('sha256', secret).update(old).digest('base64url') }), 'malformed');
  });

  test('when a statement is older than the validity window plus the clock skew, or issued further ahead than the skew, then it is refused as stale', () => {
    const headers = signPrincipal({ principal: ada, requestId: 'req-1', clientAddress: '::1', secret, method: 'GET', path: '/v1/orders', body: undefined, now });
    const at = (offsetMs: number) => rejection(() => verifyPrincipal({
      headers, method: 'GET', url: '/v1/orders', requestId: 'req-1', secret, ...window, now: new Date(now.getTime() + offsetMs),
    }));
    assert.equal(at(35_000), 'accepted');
    assert.equal(at(35_001), 'stale');
    assert.equal(at(-5_000), 'accepted');
    assert.equal(at(-5_001), 'issued-in-the-future');
  });

  test('when a streamed body is signed, then the statement carries the marker and its declared length, and another length is refused', () => {
    const headers = signPrincipal({ principal: admin, requestId: 'req-1', clientAddress: '::1', secret, method: 'POST', path: '/v1/imports', body: streamedBody, contentLength: '2048', now });
    const verify = (contentLength: string | undefined) => rejection(() => verifyPrincipal({
      headers: { ...headers, ...(contentLength === undefined ? {} : { 'content-length': contentLength }) }, method: 'POST', url: '/v1/imports', requestId: 'req-1', secret, ...window, now,
    }));
    assert.equal(statementOf(headers).body, 'streamed');
    assert.equal(verify('2048'), 'accepted');
    assert.equal(verify('2047'), 'other-length');
    assert.equal(verify(undefined), 'other-length');
    const chunked = signPrincipal({ principal: admin, requestId: 'req-1', clientAddress: '::1', secret, method: 'POST', path: '/v1/imports', body: streamedBody, now });
    assert.equal(rejection(() => verifyPrincipal({ headers: { ...chunked, 'content-length': '10' }, method: 'POST', url: '/v1/imports', requestId: 'req-1', secret, ...window, now })), 'other-length');
  });
});

describe('a service behind the gateway', () => {
  const logged: { reason?: string; msg?: string }[] = [];
  const destination = { write: (line: string) => { logged.push(JSON.parse(line) as { reason?: string }); } };
  const refusals = () => logged.filter((line) => line.msg === 'request without a valid gateway signature refused').map((line) => line.reason);
  let handled: { caller: string | null; body: unknown }[] = [];

  function service(settings: { replayCacheSize?: number; trustedAddresses?: string[]; validitySeconds?: number } = {}): HttpApp {
    logged.length = 0;
    handled = [];
    return createHttpApp({
      logger: createLogger({ level: 'info', destination }), bodyLimit: 10_000, readiness: [],
      gatewayTrust: {
        secret, ...settings,
        policies: [
          { method: 'GET', url: '/v1/things', access: 'public', upstream: 'things' },
          { method: 'POST', url: '/v1/things', access: 'admin', upstream: 'things' },
          { method: 'DELETE', url: '/v1/things/:id', access: 'admin', upstream: 'things' },
        ],
      },
      routes: [(scoped) => {
        const handle = (request: { principal?: Principal; body?: unknown; clientAddress?: string }) => {
          handled.push({ caller: request.principal?.id ?? null, body: request.body ?? null });
          return { caller: request.principal?.id ?? null, ip: request.clientAddress };
        };
        scoped.get('/v1/things', handle);
        scoped.post('/v1/things', handle);
        scoped.delete('/v1/things/:id', handle);
      }],
    });
  }

  /** The headers the gateway would send for this request. */
  function signed(request: { method: string; url: string; body?: string; principal?: Principal; requestId?: string; at?: Date }): Record<string, string> {
    const requestId = request.requestId ?? `req-${crypto.randomUUID()}`;
    return {
      'x-request-id': requestId,
      ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...signPrincipal({
        principal: request.principal, requestId, clientAddress: '198.51.100.4', secret, method: request.method, path: request.url,
        body: request.body === undefined ? undefined : Buffer.from(request.body), ...(request.at === undefined ? {} : { now: request.at }),
      }),
    };
  }

  test('when a service is called directly, then it answers 401 problem+json without detail and without running the handler, but its probes answer', async () => {
    const app = service();
    const direct = await app.inject({ method: 'GET', url: '/v1/things', headers: { 'x-dev-customer-id': 'mallory' } });
    assert.equal(direct.statusCode, 401);
    assert.equal(direct.headers['content-type'], 'application/problem+json; charset=utf-8');
    const problem = direct.json<{ type: string; detail: string }>();
    assert.equal(problem.type, 'https://orderstream.dev/problems/gateway-required');
    assert.doesNotMatch(problem.detail, /missing|signature|nonce/);
    assert.deepEqual(refusals(), ['missing']);
    assert.equal(handled.length, 0);
    assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  });

  test('when the gateway signs a read and a write with a body, then the service serves them with the signed caller and the body as sent', async () => {
    const app = service();
    const read = await app.inject({ method: 'GET', url: '/v1/things?limit=2', headers: signed({ method: 'GET', url: '/v1/things?limit=2', principal: ada }) });
    assert.equal(read.statusCode, 200);
    assert.deepEqual(read.json(), { caller: 'usr_1', ip: '198.51.100.4' });
    const body = '{"name":"thing","note":"é"}';
    const write = await app.inject({ method: 'POST', url: '/v1/things', headers: signed({ method: 'POST', url: '/v1/things', body, principal: admin }), payload: body });
    assert.equal(write.statusCode, 200);
    const removal = await app.inject({ method: 'DELETE', url: '/v1/things/7', headers: signed({ method: 'DELETE', url: '/v1/things/7', principal: admin }) });
    assert.equal(removal.statusCode, 200);
    assert.deepEqual(handled, [{ caller: 'usr_1', body: null }, { caller: 'usr_0', body: { name: 'thing', note: 'é' } }, { caller: 'usr_0', body: null }]);
    assert.deepEqual(refusals(), []);
  });

  test('when a captured header pair is sent again, or with another method, path, query or body, then it is refused 401 and no handler runs', async () => {
    const app = service();
    const captured = signed({ method: 'GET', url: '/v1/things?limit=2', principal: admin });
    assert.equal((await app.inject({ method: 'GET', url: '/v1/things?limit=2', headers: captured })).statusCode, 200);
    handled = [];
    const replays = [
      await app.inject({ method: 'GET', url: '/v1/things?limit=2', headers: captured }),
      await app.inject({ method: 'POST', url: '/v1/things', headers: { ...captured, 'content-type': 'application/json' }, payload: '{"name":"evil"}' }),
      await app.inject({ method: 'DELETE', url: '/v1/things/7', headers: captured }),
      await app.inject({ method: 'GET', url: '/v1/things?limit=1000', headers: captured }),
    ];
    assert.deepEqual(replays.map((response) => response.statusCode), [401, 401, 401, 401]);
    assert.deepEqual(refusals(), ['replayed', 'other-method', 'other-method', 'other-url']);

    // A write captured before it reached the service: its body is bound too.
    const write = signed({ method: 'POST', url: '/v1/things', body: '{"name":"good"}', principal: admin });
    const otherBody = await app.inject({ method: 'POST', url: '/v1/things', headers: write, payload: '{"name":"evil"}' });
    assert.equal(otherBody.statusCode, 401);
    assert.equal(refusals().at(-1), 'other-body');
    // Its nonce was spent by that attempt: the statement is good for one request only, whatever came of it.
    assert.equal((await app.inject({ method: 'POST', url: '/v1/things', headers: write, payload: '{"name":"good"}' })).statusCode, 401);
    assert.equal(refusals().at(-1), 'replayed');
    const noBody = signed({ method: 'POST', url: '/v1/things', principal: admin });
    assert.equal((await app.inject({ method: 'POST', url: '/v1/things', headers: { ...noBody, 'content-type': 'application/json' }, payload: '{"name":"evil"}' })).statusCode, 401);
    assert.equal(refusals().at(-1), 'other-body');
    assert.equal(handled.length, 0);
  });

  test('when a statement is older than the validity window, then the service refuses it 401', async () => {
    const app = service({ validitySeconds: 10 });
    const old = new Date(Date.now() - 16_000);
    const response = await app.inject({ method: 'GET', url: '/v1/things', headers: signed({ method: 'GET', url: '/v1/things', at: old }) });
    assert.equal(response.statusCode, 401);
    assert.deepEqual(refusals(), ['stale']);
    const recent = new Date(Date.now() - 9_000);
    assert.equal((await app.inject({ method: 'GET', url: '/v1/things', headers: signed({ method: 'GET', url: '/v1/things', at: recent }) })).statusCode, 200);
  });

  test('when the nonce cache is full, then a new statement is refused 503 with Retry-After instead of a nonce being forgotten, and a replay is still refused 401', async () => {
    const app = service({ replayCacheSize: 2 });
    const first = signed({ method: 'GET', url: '/v1/things' });
    assert.equal((await app.inject({ method: 'GET', url: '/v1/things', headers: first })).statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: '/v1/things', headers: signed({ method: 'GET', url: '/v1/things' }) })).statusCode, 200);
    const full = await app.inject({ method: 'GET', url: '/v1/things', headers: signed({ method: 'GET', url: '/v1/things' }) });
    assert.equal(full.statusCode, 503);
    assert.equal(full.json<{ type: string }>().type, 'https://orderstream.dev/problems/overloaded');
    const retryAfter = Number(full.headers['retry-after']);
    assert.ok(retryAfter >= 1 && retryAfter <= 36, `Retry-After ${String(full.headers['retry-after'])}`);
    assert.equal((await app.inject({ method: 'GET', url: '/v1/things', headers: first })).statusCode, 401);
    assert.equal(handled.length, 2);
  });

  test('when trusted addresses are set, then a correctly signed request from any other address is refused 401', async () => {
    const app = service({ trustedAddresses: ['10.0.0.0/8', '::1'] });
    const fromOutside = await app.inject({ method: 'GET', url: '/v1/things', remoteAddress: '192.0.2.9', headers: signed({ method: 'GET', url: '/v1/things' }) });
    assert.equal(fromOutside.statusCode, 401);
    assert.deepEqual(refusals(), ['untrusted-address']);
    assert.equal((await app.inject({ method: 'GET', url: '/v1/things', remoteAddress: '10.1.2.3', headers: signed({ method: 'GET', url: '/v1/things' }) })).statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: '/v1/things', remoteAddress: '::ffff:10.1.2.3', headers: signed({ method: 'GET', url: '/v1/things' }) })).statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: '/healthz', remoteAddress: '192.0.2.9' })).statusCode, 200);
  });

  test('when a streamed body is signed with its length, then the service accepts that length only', async () => {
    const app = service();
    const body = '{"name":"streamed"}';
    const headers = (contentLength: number) => {
      const requestId = `req-${crypto.randomUUID()}`;
      return {
        'x-request-id': requestId, 'content-type': 'application/json',
        ...signPrincipal({ principal: admin, requestId, clientAddress: '::1', secret, method: 'POST', path: '/v1/things', body: streamedBody, contentLength }),
      };
    };
    assert.equal((await app.inject({ method: 'POST', url: '/v1/things', headers: headers(body.length), payload: body })).statusCode, 200);
    assert.equal((await app.inject({ method: 'POST', url: '/v1/things', headers: headers(body.length + 5), payload: body })).statusCode, 401);
    assert.deepEqual(refusals(), ['other-length']);
  });
});
