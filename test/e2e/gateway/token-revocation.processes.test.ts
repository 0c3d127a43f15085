import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { requireService } from '../../../src/platform/testing/services.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../src/platform/testing/test-database.ts';
import { freePort, OrderStreamProcess } from '../harness/orderstream-process.ts';

/**
 * Revocation in the services shape as real processes: the identity service (`--role identity`, on
 * its own database) and two gateways without that database, sharing revocations through Redis.
 */
const kafka = requireService('Kafka', 'KAFKA_BROKERS');
const redis = requireService('Redis', 'REDIS_URL');

/** A revocation must reach every gateway within this; the announcement makes it far quicker, the 5 s re-read bounds a missed one. */
const boundMs = 6000;

describe('token revocation across gateway processes', { skip: kafka.skip || redis.skip }, () => {
  let database: { url: string; drop: () => Promise<void> };
  let identity: OrderStreamProcess;
  const gateways: OrderStreamProcess[] = [];
  const gatewayUrls: string[] = [];
  let gatewayEnv: (port: number) => Record<string, string>;
  const run = randomBytes(4).toString('hex');

  before(async () => {
    const created = await createTestDatabase(embeddedServerUrl(), []);
    await created.db.destroy();
    database = created;
    const shared = {
      GATEWAY_SECRET: randomBytes(32).toString('base64'), LOG_LEVEL: 'info', HOST: '127.0.0.1',
      REDIS_URL: redis.url ?? '', REDIS_KEY_PREFIX: `test-revocation-${run}:`,
    };
    const identityPort = await freePort();
    identity = new OrderStreamProcess('identity', ['--role', 'identity'], {
      ...shared, PORT: String(identityPort), DATABASE_URL: database.url, IDENTITY_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      KAFKA_BROKERS: kafka.url ?? '', KAFKA_NAMESPACE: `test-revocation-${run}`,
    });
    await identity.start();
    // Every route goes to identity: it answers its own, and a token the gateway accepted is told apart from a refused one by the status.
    gatewayEnv = (port) => ({
      ...shared, PORT: String(port), GATEWAY_UPSTREAMS: `*=http://127.0.0.1:${identityPort}`,
      RATE_LIMIT_BURST: '100000', RATE_LIMIT_PER_SECOND: '100000', AUTH_RATE_LIMIT_BURST: '100000', AUTH_RATE_LIMIT_PER_SECOND: '100000',
    });
    for (let index = 0; index < 2; index += 1) {
      const port = await freePort();
      gatewayUrls.push(`http://127.0.0.1:${port}`);
      gateways.push(new OrderStreamProcess(`gateway-${index}`, ['--role', 'gateway'], gatewayEnv(port)));
    }
    await Promise.all(gateways.map((gateway) => gateway.start()));
  });

  after(async () => {
    await Promise.all([...gateways, identity].map((child) => child.stop('SIGKILL')));
    await database.drop();
  });

  async function post(gateway: string, url: string, body: unknown, token?: string): Promise<{ status: number; json: unknown }> {
    const response = await fetch(`${gateway}${url}`, {
      method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(10_000),
      headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
    });
    const text = await response.text();
    return { status: response.status, json: text === '' ? undefined : JSON.parse(text) as unknown };
  }

  /**
   * 400 while the gateway accepts the token (it reaches identity, whose password route refuses the
   * empty body), 401 once the gateway refuses it.
   */
  const statusAt = async (gateway: string, token: string) => (await post(gateway, '/v1/auth/password', {}, token)).status;

  async function signedIn(name: string): Promise<{ accessToken: string; refreshToken: string; email: string }> {
    const email = `${name}-${run}@example.com`;
    const password = 'a long enough passphrase';
    const registered = await post(gatewayUrls[0] ?? '', '/v1/auth/register', { email, password });
    assert.ok([201, 202].includes(registered.status), JSON.stringify(registered.json));
    const login = await post(gatewayUrls[0] ?? '', '/v1/auth/login', { email, password });
    assert.equal(login.status, 200, JSON.stringify(login.json));
    return { ...(login.json as { accessToken: string; refreshToken: string }), email };
  }

  /** How long until every gateway in `urls` answers 401 to `token`; fails past the bound. */
  async function refusedEverywhereWithin(urls: readonly string[], token: string): Promise<number> {
    const started = Date.now();
    const pending = new Set(urls);
    while (pending.size > 0) {
      for (const url of [...pending]) if (await statusAt(url, token) === 401) pending.delete(url);
      if (pending.size === 0) break;
      assert.ok(Date.now() - started < boundMs, `still accepted after ${boundMs} ms at ${[...pending].join(', ')}`);
      await sleep(50);
    }
    return Date.now() - started;
  }

  test('when a user logs out through one gateway, then their access token gets 401 at every gateway within the bound, though each had it cached', async () => {
    const user = await signedIn('logout');
    for (const url of gatewayUrls) assert.equal(await statusAt(url, user.accessToken), 400);
    const loggedOut = await post(gatewayUrls[0] ?? '', '/v1/auth/logout', { refreshToken: user.refreshToken });
    assert.equal(loggedOut.status, 204);
    const tookMs = await refusedEverywhereWithin(gatewayUrls, user.accessToken);
    assert.ok(tookMs < boundMs, `took ${tookMs} ms`);
  });

  test('when a refresh token is reused through the second gateway, then the family\'s access token gets 401 at the first', async () => {
    const user = await signedIn('reuse');
    const refreshed = await post(gatewayUrls[1] ?? '', '/v1/auth/refresh', { refreshToken: user.refreshToken });
    assert.equal(refreshed.status, 200);
    const next = refreshed.json as { accessToken: string };
    assert.equal(await statusAt(gatewayUrls[0] ?? '', next.accessToken), 400);
    assert.equal((await post(gatewayUrls[1] ?? '', '/v1/auth/refresh', { refreshToken: user.refreshToken })).status, 401);
    await refusedEverywhereWithin(gatewayUrls, next.accessToken);
  });

  test('when a gateway starts after a revocation, then it refuses the revoked token from its first request', async () => {
    const user = await signedIn('late');
    assert.equal((await post(gatewayUrls[0] ?? '', '/v1/auth/logout', { refreshToken: user.refreshToken })).status, 204);
    await refusedEverywhereWithin(gatewayUrls, user.accessToken);
    const port = await freePort();
    const late = new OrderStreamProcess('gateway-late', ['--role', 'gateway'], gatewayEnv(port));
    gateways.push(late);
    await late.start();
    assert.equal(await statusAt(`http://127.0.0.1:${port}`, user.accessToken), 401);
    const other = await signedIn('late-other');
    assert.equal(await statusAt(`http://127.0.0.1:${port}`, other.accessToken), 400);
  });
});
