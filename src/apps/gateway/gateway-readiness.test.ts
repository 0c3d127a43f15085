import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../platform/config/config.ts';
import { createLogger } from '../../platform/logging/logger.ts';
import { createGateway, type Gateway } from './gateway.ts';

const secret = 'gateway-readiness-test-secret-0123456789';
const intervalMs = 250;
// Loose, so that a busy machine does not fail a probe of an instance that answers; a stopped one refuses at once.
const timeoutMs = 1000;
/** A probe is due within the interval, and ends within its timeout; the rest is room for a busy machine. */
const noticedWithinMs = intervalMs + timeoutMs + 1000;

/** An instance of a service behind the gateway: a real HTTP server that can stop and start again on the same port. */
class ServiceInstance {
  readonly name: string;
  /** Requests forwarded to it, the probes apart. */
  readonly hits: string[] = [];
  probes = 0;
  port = 0;
  #server: Server | undefined;

  constructor(name: string) {
    this.name = name;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const server = createServer((request, response) => {
      if (request.url === '/readyz') {
        this.probes += 1;
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ready"}');
        return;
      }
      request.resume();
      request.on('end', () => {
        this.hits.push(`${request.method ?? ''} ${request.url ?? ''}`);
        response.writeHead(200, { 'content-type': 'application/json', 'x-served-by': this.name }).end('{}');
      });
    });
    server.listen(this.port, '127.0.0.1');
    await once(server, 'listening');
    this.port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  }
}

interface InstanceReport { instance: number; url?: string; state: string; lastProbeAt: string | null; reason: string }
interface ReadinessBody {
  status?: string;
  type?: string;
  detail?: string;
  checks: Record<string, { status: string; required: boolean; instances?: InstanceReport[] }>;
}

const first = new ServiceInstance('first');
const second = new ServiceInstance('second');
/** Every service but catalog and identity, which are not required. */
const others = new ServiceInstance('others');
let gateway: Gateway;
let closed = false;

before(async () => {
  await Promise.all([first.start(), second.start(), others.start()]);
  gateway = createGateway({
    config: loadConfig({
      GATEWAY_SECRET: secret,
      GATEWAY_UPSTREAMS: `catalog=${first.url},${second.url};identity=${first.url},${second.url};*=${others.url}`,
      GATEWAY_REQUIRED_UPSTREAMS: 'catalog,identity',
      GATEWAY_HEALTH_CHECK_INTERVAL_MS: String(intervalMs), GATEWAY_HEALTH_CHECK_TIMEOUT_MS: String(timeoutMs),
      GATEWAY_HEALTH_CHECK_FAILURES: '1', GATEWAY_HEALTH_CHECK_PASSES: '1',
      GATEWAY_TIMEOUT_MS: '30000', RATE_LIMIT_BURST: '10000', LOG_LEVEL: 'silent',
    }),
    logger: createLogger({ level: 'silent' }),
  });
});

after(async () => {
  if (!closed) await gateway.close();
  await Promise.all([first.stop(), second.stop(), others.stop()]);
});

async function readiness(): Promise<{ statusCode: number; contentType: string; body: ReadinessBody }> {
  const response = await gateway.app.inject({ method: 'GET', url: '/readyz' });
  return { statusCode: response.statusCode, contentType: String(response.headers['content-type']), body: response.json<ReadinessBody>() };
}

/** Asks /readyz until `condition` holds; answers that answer and how long it took. */
async function readinessWhen(condition: (answer: Awaited<ReturnType<typeof readiness>>) => boolean, what: string): Promise<Awaited<ReturnType<typeof readiness>> & { elapsedMs: number }> {
  const startedAt = performance.now();
  for (;;) {
    const answer = await readiness();
    const elapsedMs = performance.now() - startedAt;
    if (condition(answer)) return { ...answer, elapsedMs };
    if (elapsedMs > 10_000) assert.fail(`${what}: still ${JSON.stringify(answer.body)}`);
    await sleep(10);
  }
}

const states = (body: ReadinessBody, service: string) => body.checks[service]?.instances?.map((instance) => instance.state);

describe('the gateway\'s readiness and its upstream instances', () => {
  test('when both instances answer, then /readyz is ready and lists each instance as healthy with its last probe, its address only on the operations listener', async () => {
    const { statusCode, body } = await readinessWhen((answer) => answer.body.status === 'ready', 'ready');
    assert.deepEqual(body.checks.catalog && { status: body.checks.catalog.status, required: body.checks.catalog.required }, { status: 'up', required: true });
    assert.equal(body.checks.orders?.required, false);
    const instances = body.checks.catalog?.instances ?? [];
    assert.deepEqual(instances.map(({ instance, state, reason }) => ({ instance, state, reason })), [
      { instance: 1, state: 'healthy', reason: 'answered 200' },
      { instance: 2, state: 'healthy', reason: 'answered 200' },
    ]);
    for (const instance of instances) {
      assert.equal(instance.url, undefined, 'the public listener does not reveal internal addresses');
      assert.ok(Date.now() - Date.parse(instance.lastProbeAt ?? '') < 5000, 'probed just now');
    }
    assert.equal(statusCode, 200);

    const ops = await gateway.ops.listen({ host: '127.0.0.1', port: 0 });
    const internal = await (await fetch(`${ops.url}/readyz`)).json() as ReadinessBody;
    assert.deepEqual(internal.checks.catalog?.instances?.map((instance) => instance.url), [first.url, second.url]);
  });

  test('when one instance stops, then /readyz shows it down within a probe interval, the service still up, and requests go to the other', async () => {
    const servedBefore = first.hits.length;
    await second.stop();
    const { statusCode, body, elapsedMs } = await readinessWhen((answer) => answer.body.checks.catalog?.instances?.[1]?.reason === 'connection refused', 'second instance down');
    assert.ok(elapsedMs < noticedWithinMs, `noticed after ${Math.round(elapsedMs)} ms`);
    assert.equal(statusCode, 200);
    assert.equal(body.checks.catalog?.status, 'up');
    assert.deepEqual(body.checks.catalog.instances?.map(({ state, reason }) => ({ state, reason })), [
      { state: 'healthy', reason: 'answered 200' },
      { state: 'down', reason: 'connection refused' },
    ]);

    for (let index = 0; index < 6; index += 1) {
      const response = await gateway.app.inject({ method: 'GET', url: `/v1/products?page=${index}` });
      assert.equal(response.statusCode, 200);
      assert.equal(response.headers['x-served-by'], 'first');
    }
    assert.equal(first.hits.length - servedBefore, 6);
  });

  test('when both instances are stopped, then /readyz answers 503 naming the service, and its requests get a 503 problem+json at once, POSTs too', async () => {
    await first.stop();
    const { contentType, body, elapsedMs } = await readinessWhen((answer) => answer.statusCode === 503, 'not ready');
    assert.ok(elapsedMs < noticedWithinMs, `noticed after ${Math.round(elapsedMs)} ms`);
    assert.equal(contentType, 'application/problem+json; charset=utf-8');
    assert.match(body.type ?? '', /\/not-ready$/);
    assert.match(body.detail ?? '', /catalog \(down\)/);
    assert.deepEqual(states(body, 'catalog'), ['down', 'down']);
    assert.equal(body.checks.orders?.status, 'up', 'the other services are reported as they are');

    const requests = [
      { method: 'GET' as const, url: '/v1/products' },
      { method: 'POST' as const, url: '/v1/auth/register', headers: { 'content-type': 'application/json' }, payload: '{"email":"ada@example.com","password":"correct horse battery"}' },
    ];
    for (const request of requests) {
      const startedAt = performance.now();
      const response = await gateway.app.inject(request);
      assert.ok(performance.now() - startedAt < 1000, `${request.method} ${request.url} answered at once`);
      assert.equal(response.statusCode, 503, `${request.method} ${request.url}`);
      assert.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8');
      assert.ok(Number(response.headers['retry-after']) >= 1);
      const problem = response.json<{ type: string; detail: string }>();
      assert.match(problem.type, /\/service-unavailable$/);
      assert.match(problem.detail, /No instance of the service is healthy/);
    }
  });

  test('when one instance comes back, then /readyz is ready again within a probe interval and requests reach it', async () => {
    const servedBefore = second.hits.length;
    await second.start(); // on its former port
    const { body, elapsedMs } = await readinessWhen((answer) => answer.statusCode === 200, 'ready again');
    assert.ok(elapsedMs < noticedWithinMs, `noticed after ${Math.round(elapsedMs)} ms`);
    assert.equal(body.status, 'ready');
    assert.deepEqual(states(body, 'catalog'), ['down', 'healthy']);
    const response = await gateway.app.inject({ method: 'GET', url: '/v1/products' });
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['x-served-by'], 'second');
    assert.equal(second.hits.length - servedBefore, 1);
  });

  test('when a service that is not required has no healthy instance, then /readyz stays 200 and says degraded', async () => {
    await others.stop();
    const { statusCode, body } = await readinessWhen((answer) => answer.body.checks.orders?.status === 'down', 'orders down');
    assert.equal(statusCode, 200);
    assert.equal(body.status, 'degraded');
    await others.start();
  });

  test('when the gateway closes, then its probes stop', async () => {
    closed = true;
    await gateway.close();
    await sleep(50); // a probe already on the wire when it closed may still arrive
    const probes = second.probes + others.probes;
    await sleep(intervalMs * 3);
    assert.equal(second.probes + others.probes, probes);
  });

  test('when GATEWAY_REQUIRED_UPSTREAMS names a service no route uses, then the gateway refuses to start, naming it', () => {
    assert.throws(() => createGateway({
      config: loadConfig({ GATEWAY_SECRET: secret, GATEWAY_UPSTREAMS: `*=${first.url}`, GATEWAY_REQUIRED_UPSTREAMS: 'catalog,shipping', LOG_LEVEL: 'silent' }),
      logger: createLogger({ level: 'silent' }),
    }), /GATEWAY_REQUIRED_UPSTREAMS names shipping, which no route/);
  });
});
