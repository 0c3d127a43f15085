import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { requireService } from '../../../src/platform/testing/services.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../src/platform/testing/test-database.ts';
import { freePort, OrderStreamProcess } from '../harness/orderstream-process.ts';

/**
 * The services shape's edge as real processes: two gateways sharing one Redis rate limit, in front
 * of two instances of the API (`--role api`, trusting only the gateways' signature) on one database.
 */
const redis = requireService('Redis', 'REDIS_URL');

describe('two gateway processes in front of two service instances', { skip: redis.skip }, () => {
  let database: { url: string; drop: () => Promise<void> };
  let documents: string;
  const services: OrderStreamProcess[] = [];
  const gateways: OrderStreamProcess[] = [];
  const gatewayUrls: string[] = [];

  before(async () => {
    const created = await createTestDatabase(embeddedServerUrl(), []);
    await created.db.destroy();
    database = created;
    documents = await mkdtemp(path.join(tmpdir(), 'orderstream-gateway-'));
    const secret = randomBytes(32).toString('base64');
    const shared = { GATEWAY_SECRET: secret, LOG_LEVEL: 'info', HOST: '127.0.0.1' };
    const servicePorts = [await freePort(), await freePort()];
    for (const [index, port] of servicePorts.entries()) {
      services.push(new OrderStreamProcess(`service-${index}`, ['--role', 'api'], {
        ...shared, PORT: String(port), DATABASE_URL: database.url,
        DOCUMENTS_DIR: documents, EMAIL_OUTBOX_DIR: documents,
      }));
    }
    // One key for both instances: they share the database, so they share the stored signing keys.
    const keyEncryptionKey = randomBytes(32).toString('base64');
    for (const service of services) Object.assign(service.env, { IDENTITY_KEY_ENCRYPTION_KEY: keyEncryptionKey });
    await services[0]?.start(); // migrates first, alone
    await services[1]?.start();
    const redisKeyPrefix = `test-${randomBytes(4).toString('hex')}:`;
    for (let index = 0; index < 2; index += 1) {
      const port = await freePort();
      gatewayUrls.push(`http://127.0.0.1:${port}`);
      gateways.push(new OrderStreamProcess(`gateway-${index}`, ['--role', 'gateway'], {
        ...shared, PORT: String(port), REDIS_URL: redis.url ?? '', REDIS_KEY_PREFIX: redisKeyPrefix,
        GATEWAY_UPSTREAMS: `*=${servicePorts.map((servicePort) => `http://127.0.0.1:${servicePort}`).join(',')}`,
        AUTH_RATE_LIMIT_BURST: '6', AUTH_RATE_LIMIT_PER_SECOND: '0.01', RATE_LIMIT_BURST: '100000', RATE_LIMIT_PER_SECOND: '100000',
        GATEWAY_EJECT_MS: '500', GATEWAY_BREAKER_RESET_MS: '1000', GATEWAY_BREAKER_WINDOW_MS: '1000', GATEWAY_FAILURES_TO_EJECT: '2',
      }));
    }
    await Promise.all(gateways.map((gateway) => gateway.start()));
  });

  after(async () => {
    await Promise.all([...gateways, ...services].map((child) => child.stop('SIGKILL')));
    await database.drop();
    await rm(documents, { recursive: true, force: true });
  });

  const servedBy = (service: OrderStreamProcess | undefined, route: string) => (service?.logged('request completed') ?? []).filter((line) => line.route === route).length;

  test('when a client alternates between the two gateways, then they draw from one rate-limit budget in Redis', async () => {
    const statuses: number[] = [];
    for (let index = 0; index < 8; index += 1) {
      const response = await fetch(`${gatewayUrls[index % 2] ?? ''}/v1/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      statuses.push(response.status);
      if (response.status === 429) assert.ok(Number(response.headers.get('retry-after')) >= 1);
    }
    // The auth bucket holds 6: six reach the service (and fail validation), the seventh and eighth are refused at whichever gateway.
    assert.deepEqual(statuses, [400, 400, 400, 400, 400, 400, 429, 429]);
    assert.equal(servedBy(services[0], '/v1/auth/register') + servedBy(services[1], '/v1/auth/register'), 6);
  });

  test('when one service instance is killed mid-run, then every read is still answered through both gateways; when all are down, the circuit opens and fails fast; when one is back, it closes', async () => {
    const [first, second] = services;
    assert.ok(first !== undefined && second !== undefined);
    const failures: string[] = [];
    let answered = 0;
    let running = true;
    const load = Array.from({ length: 4 }, async (_, worker) => {
      for (let index = 0; running; index += 1) {
        const response = await fetch(`${gatewayUrls[(worker + index) % 2] ?? ''}/v1/products`).catch((error: unknown) => new Response(String(error), { status: 599 }));
        if (response.status === 200) answered += 1;
        else failures.push(`${response.status} ${await response.text()}`);
        await response.body?.cancel().catch(() => undefined);
      }
    });
    await sleep(1000);
    const secondServedBeforeKill = servedBy(second, '/v1/products');
    await second.stop('SIGKILL');
    const answeredAtKill = answered;
    await sleep(1500);
    running = false;
    await Promise.all(load);
    assert.deepEqual(failures, [], 'no client saw the instance die');
    assert.ok(secondServedBeforeKill > 0 && servedBy(first, '/v1/products') > 0, 'both instances took a share while up');
    assert.ok(answered - answeredAtKill > 5, `reads went on after the kill (${answered - answeredAtKill})`);

    // The breaker judges the last second: let the successes of the load above leave its window.
    await sleep(1200);
    await first.stop('SIGKILL');
    const gatewayUrl = gatewayUrls[0] ?? '';
    const statuses: number[] = [];
    for (let index = 0; index < 15; index += 1) statuses.push((await fetch(`${gatewayUrl}/v1/products`)).status);
    assert.ok(statuses.every((status) => status === 502 || status === 503), `only unavailability answers: ${statuses.join(',')}`);
    const fastFail = await fetch(`${gatewayUrl}/v1/products`);
    assert.equal(fastFail.status, 503);
    assert.equal(fastFail.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.ok(Number(fastFail.headers.get('retry-after')) >= 1);
    const gateway = gateways[0];
    const circuit = () => (gateway?.logged('upstream circuit changed') ?? []).filter((line) => line.upstream === 'catalog').map((line) => line.circuit);
    assert.deepEqual(circuit(), ['open']);

    await first.start();
    const deadline = Date.now() + 15_000;
    let status = 0;
    while (status !== 200 && Date.now() < deadline) {
      status = (await fetch(`${gatewayUrl}/v1/products`)).status;
      if (status !== 200) await sleep(200);
    }
    assert.equal(status, 200, 'the gateway serves again once an instance is back');
    // The gateway logs the change as the trial request succeeds; its line may reach this test
    // through the pipe a moment after the answer does.
    const logDeadline = Date.now() + 5000;
    while (circuit().length < 3 && Date.now() < logDeadline) await sleep(50);
    assert.deepEqual(circuit(), ['open', 'half-open', 'closed']);
  });
});
