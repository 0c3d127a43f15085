import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { memoryLogger } from '../../src/platform/testing/memory-logger.ts';
import { startFulfilment, type FulfilmentHarness } from './harness/fulfilment-harness.ts';

let harness: FulfilmentHarness;
// Everything the app logs at every level, as it would reach standard output.
const logs = memoryLogger('trace');

before(async () => {
  harness = await startFulfilment({}, { logger: logs.logger, registerWebhook: false });
});
after(async () => { await harness.close(); });

describe('secrets in logs', () => {
  test('when a customer registers, signs in, refreshes, calls the API with the token and signs out, then no log line contains the password or a token', async () => {
    const { app } = harness.orderstream;
    // What someone debugging would add: every request's body and headers at debug level. The
    // redaction must still keep the credentials in them out of the output.
    app.addHook('preHandler', (request, _reply, done) => {
      logs.logger.debug({ body: request.body, headers: request.headers }, 'request received');
      done();
    });
    const email = `redaction-${crypto.randomUUID()}@example.com`;
    const password = `Pw-${crypto.randomUUID()}-long-enough`;

    assert.equal((await app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email, password } })).statusCode, 202);
    const wrong = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password: `${password}-wrong` } });
    assert.equal(wrong.statusCode, 401);
    const login = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password } });
    assert.equal(login.statusCode, 200, login.body);
    const first = login.json<{ accessToken: string; refreshToken: string }>();
    const refreshed = await app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: first.refreshToken } });
    assert.equal(refreshed.statusCode, 200, refreshed.body);
    const second = refreshed.json<{ accessToken: string; refreshToken: string }>();
    const orders = await app.inject({ method: 'GET', url: '/v1/orders', headers: { authorization: `Bearer ${second.accessToken}` } });
    assert.equal(orders.statusCode, 200, orders.body);
    const forged = await app.inject({ method: 'GET', url: '/v1/orders', headers: { authorization: `Bearer ${second.accessToken}x` } });
    assert.equal(forged.statusCode, 401);
    // After the access token's use: reusing a rotated refresh token revokes the family, its access tokens included.
    const reused = await app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: first.refreshToken } });
    assert.equal(reused.statusCode, 401, 'a rotated refresh token is refused (and the attempt logged)');
    assert.equal((await app.inject({ method: 'POST', url: '/v1/auth/logout', payload: { refreshToken: second.refreshToken } })).statusCode, 204);

    const written = logs.text();
    const debugLines = logs.lines().filter((line) => line.msg === 'request received');
    assert.ok(debugLines.some((line) => (line.body as { password?: unknown } | undefined)?.password === '[redacted]'), 'a logged password was redacted');
    assert.ok(debugLines.some((line) => (line.headers as { authorization?: unknown } | undefined)?.authorization === '[redacted]'), 'a logged bearer token was redacted');
    const accessLines = logs.lines().filter((line) => line.msg === 'request completed' && typeof line.route === 'string' && line.route.startsWith('/v1/'));
    assert.ok(accessLines.length >= 8, `the flow was logged (${accessLines.length} access-log lines)`);
    assert.ok(accessLines.every((line) => typeof line.requestId === 'string'), 'every access-log line has its request id');
    for (const [what, secret] of [
      ['the password', password], ['the first access token', first.accessToken], ['the first refresh token', first.refreshToken],
      ['the second access token', second.accessToken], ['the second refresh token', second.refreshToken],
      // A JWT's signature alone would let someone splice a token back together.
      ['an access token signature', second.accessToken.split('.')[2] ?? 'missing'],
    ] as const) {
      assert.ok(!written.includes(secret), `no log line contains ${what}`);
    }
  });
});
