import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { createLogger } from '../logging/logger.ts';
import { createHttpApp } from './app.ts';
import { GatewaySignatureError, principalHeader, signatureHeader, signPrincipal, verifyPrincipal } from './gateway-signature.ts';
import type { Principal } from './principal.ts';

const secret = 'a-secret-shared-by-gateway-and-services-0123456789';
const ada: Principal = { id: 'usr_1', email: 'ada@example.com', roles: ['customer'] };
const now = new Date('2026-11-26T12:00:00Z');

function rejection(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof GatewaySignatureError) return error.reason;
    throw error;
  }
  return 'accepted';
}

describe('gateway signature', () => {
  test('when the gateway signs a caller for a request, then the service reads back the same caller and client address', () => {
    const headers = signPrincipal({ principal: ada, requestId: 'req-1', clientAddress: '203.0.113.7', secret, now });
    assert.deepEqual(verifyPrincipal({ headers, requestId: 'req-1', secret, maxAgeSeconds: 60, now }), { principal: ada, clientAddress: '203.0.113.7' });
    const anonymous = signPrincipal({ principal: undefined, requestId: 'req-2', clientAddress: '::1', secret, now });
    assert.deepEqual(verifyPrincipal({ headers: anonymous, requestId: 'req-2', secret, maxAgeSeconds: 60, now }), { principal: undefined, clientAddress: '::1' });
  });

  test('when the statement is missing, forged, edited, for another request or stale, then it is refused with the reason', () => {
    const headers = signPrincipal({ principal: ada, requestId: 'req-1', clientAddress: '203.0.113.7', secret, now });
    const verify = (given: Record<string, string>, options: { requestId?: string; at?: Date; key?: string } = {}) => rejection(() => verifyPrincipal({
      headers: given, requestId: options.requestId ?? 'req-1', secret: options.key ?? secret, maxAgeSeconds: 60, now: options.at ?? now,
    }));
    assert.equal(verify({}), 'missing');
    assert.equal(verify(headers, { key: 'another-secret-of-the-same-length-0123456789ab' }), 'bad-signature');
    const admin = Buffer.from(JSON.stringify({ rid: 'req-1', iat: now.getTime() / 1000, ip: '203.0.113.7', principal: { ...ada, roles: ['customer', 'admin'] } })).toString('base64url');
    assert.equal(verify({ ...headers, [principalHeader]: admin }), 'bad-signature');
    assert.equal(verify(headers, { requestId: 'req-2' }), 'other-request');
    assert.equal(verify(headers, { at: new Date(now.getTime() + 61_000) }), 'stale');
    const garbage = Buffer.from('{"rid":"req-1"').toString('base64url');
    assert.equal(verify({ [principalHeader]: garbage, [signatureHeader]: createHmac('sha256', secret).update(garbage).digest('base64url') }), 'malformed');
  });

  test('when a service behind the gateway is called directly, then it answers 401 without running the handler, but its probes answer', async () => {
    let handled = 0;
    const app = createHttpApp({
      logger: createLogger({ level: 'silent' }), bodyLimit: 1000, readiness: [], gatewayTrust: { secret, policies: [{ method: 'GET', url: '/v1/things', access: 'public', upstream: 'things' }] },
      routes: [(scoped) => { scoped.get('/v1/things', (request) => { handled += 1; return { caller: request.principal?.id ?? null, ip: request.clientAddress }; }); }],
    });
    const direct = await app.inject({ method: 'GET', url: '/v1/things', headers: { 'x-dev-customer-id': 'mallory' } });
    assert.equal(direct.statusCode, 401);
    assert.equal(direct.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.equal(direct.json<{ type: string }>().type, 'https://orderstream.dev/problems/gateway-required');
    assert.equal(handled, 0);
    assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);

    const signed = await app.inject({
      method: 'GET', url: '/v1/things',
      headers: { 'x-request-id': 'req-9', ...signPrincipal({ principal: ada, requestId: 'req-9', clientAddress: '198.51.100.4', secret }) },
    });
    assert.equal(signed.statusCode, 200);
    assert.deepEqual(signed.json(), { caller: 'usr_1', ip: '198.51.100.4' });
  });
});
