import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createOrderStreamClient } from './client.ts';
import { tokenExpiry } from './auth.ts';
import { fakeFetch, json } from './fake-fetch.ts';

const jwt = (claims: object) => `e30.${btoa(JSON.stringify(claims)).replaceAll('+', '-').replaceAll('/', '_').replaceAll('=', '')}.signature`;

describe('tokenExpiry', () => {
  test('when the token is a JWT with exp, then its expiry is answered in milliseconds; when it is not, then undefined', () => {
    assert.equal(tokenExpiry(jwt({ sub: 'usr_1', exp: 1_767_225_600 })), 1_767_225_600_000);
    assert.equal(tokenExpiry(jwt({ sub: 'usr_1' })), undefined);
    assert.equal(tokenExpiry('opaque'), undefined);
    assert.equal(tokenExpiry('a.%%%.c'), undefined);
  });
});

describe('the session without expiresIn', () => {
  test('when a pair has no usable expiresIn, then the token\'s exp decides when it is refreshed', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const expiresAt = now / 1000 + 120;
    const server = fakeFetch((seen) => (seen.path === '/v1/auth/refresh'
      ? json(200, { accessToken: jwt({ exp: expiresAt + 900 }), tokenType: 'Bearer', expiresIn: 900, refreshToken: 'r2' })
      : json(200, { id: 'ord_1', status: 'CONFIRMED' })));
    const client = createOrderStreamClient({ baseUrl: 'http://orderstream.test', fetch: server.fetch, now: () => now });
    client.session.useTokens({ accessToken: jwt({ exp: expiresAt }), expiresIn: 0, refreshToken: 'r1' });
    await client.getOrder('ord_1');
    now += 100_000; // 20 s before exp
    await client.getOrder('ord_1');
    assert.deepEqual(server.seen.map((seen) => seen.path), ['/v1/orders/ord_1', '/v1/auth/refresh', '/v1/orders/ord_1']);
  });
});
