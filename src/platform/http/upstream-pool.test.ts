import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { UpstreamHealthChecks } from './upstream-health-checks.ts';
import {
  RequestBodyError, UnsendableRequestError, UpstreamPool, UpstreamUnavailableError, type CircuitState, type UpstreamPoolSettings, type UpstreamRequest,
} from './upstream-pool.ts';

/** A real HTTP server on loopback that answers by `behaviour` and counts what it was sent. */
class Instance {
  readonly hits: string[] = [];
  behaviour: (request: IncomingMessage, response: ServerResponse) => void = (_request, response) => { response.end('ok'); };
  #server: Server | undefined;
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    const server = createServer((request, response) => {
      this.hits.push(`${request.method ?? ''} ${request.url ?? ''}`);
      this.behaviour(request, response);
    });
    server.listen(this.port, '127.0.0.1');
    await once(server, 'listening');
    this.port = (server.address() as AddressInfo).port;
    this.#server = server;
    return this;
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

const instances: Instance[] = [];
const pools: UpstreamPool[] = [];
const healthChecks: UpstreamHealthChecks[] = [];
after(async () => {
  await Promise.all(healthChecks.map((checks) => checks.close()));
  await Promise.all(pools.map((pool) => pool.close()));
  await Promise.all(instances.map((instance) => instance.stop()));
});

async function startInstances(count: number): Promise<Instance[]> {
  const started = await Promise.all(Array.from({ length: count }, () => new Instance().start()));
  instances.push(...started);
  return started;
}

function poolOf(started: readonly Instance[], settings: Partial<UpstreamPoolSettings> = {}): UpstreamPool {
  const pool = new UpstreamPool({ name: 'things', instances: started.map((instance) => instance.url), ...settings });
  pools.push(pool);
  return pool;
}

/** A pool whose instances are probed at `/readyz` every 30 ms, each failed probe marking its instance down. */
function probedPoolOf(started: readonly Instance[], settings: Partial<UpstreamPoolSettings> = {}): UpstreamPool {
  const checks = new UpstreamHealthChecks({ intervalMs: 30, timeoutMs: 500, failuresToMarkDown: 1, passesToMarkUp: 1 });
  healthChecks.push(checks);
  const pool = poolOf(started, { ...settings, healthChecks: checks });
  checks.start();
  return pool;
}

/** Answers `/readyz` with `readiness`, anything else with 200 (or as `others` says). */
function withReadiness(instance: Instance, readiness: () => number, others?: Instance['behaviour']): void {
  instance.behaviour = (request, response) => {
    if (request.url === '/readyz') response.writeHead(readiness()).end();
    else if (others !== undefined) others(request, response);
    else response.end('ok');
  };
}

const requestsTo = (instance: Instance) => instance.hits.filter((hit) => hit !== 'GET /readyz');

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`${what} within ${timeoutMs} ms`);
    await sleep(5);
  }
}

const get = (path = '/things'): UpstreamRequest => ({ method: 'GET', path, headers: {}, timeoutMs: 2000, retryable: true });

/**
 * Sends one request and reads the whole answer; an unavailable upstream answers its kind instead of
 * a status, a request that cannot be sent answers `unsendable`.
 */
async function send(pool: UpstreamPool, request: UpstreamRequest = get()): Promise<number | UpstreamUnavailableError['kind'] | 'unsendable'> {
  try {
    const response = await pool.request(request);
    await response.body.text();
    return response.statusCode;
  } catch (error) {
    if (error instanceof UpstreamUnavailableError) return error.kind;
    if (error instanceof UnsendableRequestError) return 'unsendable';
    throw error;
  }
}

describe('upstream pool', () => {
  test('when every instance is healthy, then requests go round-robin and keep the path and query', async () => {
    const [a, b] = await startInstances(2);
    assert.ok(a !== undefined && b !== undefined);
    const pool = poolOf([a, b]);
    for (let index = 0; index < 6; index += 1) assert.equal(await send(pool, get(`/things?page=${index}`)), 200);
    assert.deepEqual(a.hits, ['GET /things?page=0', 'GET /things?page=2', 'GET /things?page=4']);
    assert.deepEqual(b.hits, ['GET /things?page=1', 'GET /things?page=3', 'GET /things?page=5']);
  });

  test('when an instance stops, then its requests are retried on the other, it leaves the rotation, and a probe brings it back once it answers', async () => {
    const [a, b] = await startInstances(2);
    assert.ok(a !== undefined && b !== undefined);
    const pool = poolOf([a, b], { failuresToEject: 2, ejectMs: 300 });
    await b.stop();
    const statuses = [];
    for (let index = 0; index < 8; index += 1) statuses.push(await send(pool));
    assert.deepEqual(statuses, Array.from({ length: 8 }, () => 200), 'every request is served by the instance still up');
    assert.equal(a.hits.length, 8);

    await b.start(); // the same port again
    await sleep(350);
    for (let index = 0; index < 4; index += 1) assert.equal(await send(pool), 200);
    assert.ok(b.hits.length >= 1, 'the rested instance was probed and is back in rotation');
  });

  test('when an instance answers 503 to a GET marked retryable, then the other instance answers instead; a POST gets the 503 as it is', async () => {
    const [a, b] = await startInstances(2);
    assert.ok(a !== undefined && b !== undefined);
    a.behaviour = (_request, response) => { response.writeHead(503).end('busy'); };
    const pool = poolOf([a, b]);
    assert.equal(await send(pool), 200);
    assert.equal(await send(pool), 200);
    assert.equal(b.hits.length, 2, 'each GET that a refused ended at b');

    const post: UpstreamRequest = { method: 'POST', path: '/things', headers: { 'content-type': 'application/json' }, body: Buffer.from('{}'), timeoutMs: 2000, retryable: false };
    const statuses = [await send(pool, post), await send(pool, post)];
    assert.ok(statuses.includes(503), 'the POST that reached a was not sent again');
    assert.equal(b.hits.filter((hit) => hit.startsWith('POST')).length, 1);
  });

  test('when an instance sheds load (503 with Retry-After), then the answer is passed on as it is, and the instance stays in rotation and the circuit closed', async () => {
    const [a] = await startInstances(1);
    assert.ok(a !== undefined);
    a.behaviour = (_request, response) => { response.writeHead(503, { 'retry-after': '1' }).end('at capacity'); };
    const pool = poolOf([a], { failuresToEject: 2, breakerErrorPercentage: 50, breakerVolumeThreshold: 2 });
    const post: UpstreamRequest = { method: 'POST', path: '/orders', headers: { 'content-type': 'application/json' }, body: Buffer.from('{}'), timeoutMs: 2000, retryable: false };
    for (let index = 0; index < 6; index += 1) assert.equal(await send(pool, post), 503);
    assert.equal(a.hits.length, 6, 'every request reached the instance');
    assert.equal(pool.available, true);
    assert.equal(pool.circuit, 'closed');
    a.behaviour = (_request, response) => { response.end('ok'); };
    assert.equal(await send(pool), 200);
  });

  test('when a connection is refused, then even a POST goes to another instance, since it never reached a service', async () => {
    const [a, b] = await startInstances(2);
    assert.ok(a !== undefined && b !== undefined);
    await a.stop();
    const pool = poolOf([a, b]);
    const post: UpstreamRequest = { method: 'POST', path: '/orders', headers: {}, body: Buffer.from('{}'), timeoutMs: 2000, retryable: false };
    assert.equal(await send(pool, post), 200);
    assert.deepEqual(b.hits, ['POST /orders']);
  });

  test('when the retry budget is spent, then failures are answered instead of retried', async () => {
    const [a, b] = await startInstances(2);
    assert.ok(a !== undefined && b !== undefined);
    a.behaviour = (_request, response) => { response.writeHead(503).end(); };
    b.behaviour = (_request, response) => { response.writeHead(503).end(); };
    const pool = poolOf([a, b], { retryBudgetRatio: 0, retryBudgetPerSecond: 0.001, failuresToEject: 100, breakerVolumeThreshold: 1000 });
    const statuses = [];
    for (let index = 0; index < 6; index += 1) statuses.push(await send(pool));
    assert.deepEqual(statuses, [503, 503, 503, 503, 503, 503]);
    assert.equal(a.hits.length + b.hits.length, 6, 'no request was sent twice');
  });

  test('when an instance is slower than the timeout, then the request fails as a timeout', async () => {
    const [a] = await startInstances(1);
    assert.ok(a !== undefined);
    a.behaviour = (_request, response) => { setTimeout(() => { response.end('late'); }, 500); };
    const pool = poolOf([a]);
    assert.equal(await send(pool, { ...get(), timeoutMs: 100 }), 'timeout');
  });

  test('when most requests fail, then the circuit opens and fails fast without calling the service, and a half-open probe closes it once the service recovers', async () => {
    const [a] = await startInstances(1);
    assert.ok(a !== undefined);
    a.behaviour = (_request, response) => { response.writeHead(502).end(); };
    const changes: CircuitState[] = [];
    const pool = poolOf([a], { breakerVolumeThreshold: 5, breakerResetMs: 300, failuresToEject: 1000, onCircuitChange: (state) => changes.push(state) });
    for (let index = 0; index < 5; index += 1) assert.equal(await send(pool), 502);
    assert.equal(pool.circuit, 'open');
    const hitsWhenOpened = a.hits.length;
    assert.equal(await send(pool), 'circuit-open');
    assert.equal(a.hits.length, hitsWhenOpened, 'an open circuit sends nothing');

    a.behaviour = (_request, response) => { response.end('ok'); };
    await sleep(350);
    assert.equal(await send(pool), 200);
    assert.equal(pool.circuit, 'closed');
    assert.deepEqual(changes, ['open', 'half-open', 'closed']);
  });

  test('when the client library refuses a request (a header it will not send), then it fails as unsendable and counts against neither the instance nor the circuit', async () => {
    const [a] = await startInstances(1);
    assert.ok(a !== undefined);
    const pool = poolOf([a], { failuresToEject: 2, breakerVolumeThreshold: 2 });
    const refused = [
      { ...get(), headers: { expect: '100-continue' } },
      { ...get(), headers: { upgrade: 'websocket' } },
      { ...get(), headers: { 'transfer-encoding': 'chunked' } },
      { ...get(), headers: { 'keep-alive': 'timeout=5' } },
      { ...get(), path: 'no-leading-slash' },
    ];
    for (let round = 0; round < 3; round += 1) {
      for (const request of refused) assert.equal(await send(pool, request), 'unsendable');
    }
    assert.equal(a.hits.length, 0, 'nothing reached the service');
    assert.equal(pool.available, true);
    assert.equal(pool.circuit, 'closed');
    assert.equal(await send(pool), 200);
  });

  test('when a streamed body fails on the caller\'s side (too large, or the client left), then it fails as unsendable and the instance stays in rotation', async () => {
    const [a] = await startInstances(1);
    assert.ok(a !== undefined);
    a.behaviour = (request, response) => {
      request.on('error', () => undefined);
      request.resume();
      request.on('end', () => { response.end('ok'); });
    };
    const pool = poolOf([a], { failuresToEject: 2, breakerVolumeThreshold: 2 });
    for (const reason of ['too-large', 'client-aborted', 'too-large'] as const) {
      const body = new PassThrough();
      body.write(Buffer.alloc(16 * 1024, 1));
      const sent = send(pool, { method: 'POST', path: '/imports', headers: {}, body, timeoutMs: 2000, retryable: false });
      await sleep(20);
      body.destroy(new RequestBodyError(reason, reason));
      assert.equal(await sent, 'unsendable');
    }
    assert.equal(pool.available, true);
    assert.equal(pool.circuit, 'closed');
    assert.equal(await send(pool), 200);
  });

  test('when a streamed body fails because the instance reset the connection, then it counts as the instance\'s failure', async () => {
    const [a] = await startInstances(1);
    assert.ok(a !== undefined);
    a.behaviour = (request) => { request.once('data', () => { request.socket.destroy(); }); };
    const pool = poolOf([a], { failuresToEject: 2, breakerVolumeThreshold: 1000 });
    for (let index = 0; index < 2; index += 1) {
      const body = new PassThrough();
      body.write(Buffer.alloc(16 * 1024, 1));
      assert.equal(await send(pool, { method: 'POST', path: '/imports', headers: {}, body, timeoutMs: 2000, retryable: false }), 'connection-failed');
    }
    assert.equal(pool.available, false, 'two failures in a row took it out of rotation');
  });

  test('when a half-open probe fails, then the circuit opens again', async () => {
    const [a] = await startInstances(1);
    assert.ok(a !== undefined);
    a.behaviour = (_request, response) => { response.writeHead(504).end(); };
    const pool = poolOf([a], { breakerVolumeThreshold: 2, breakerResetMs: 200, failuresToEject: 1000 });
    await send(pool);
    await send(pool);
    assert.equal(pool.circuit, 'open');
    await sleep(250);
    assert.equal(await send(pool), 504);
    assert.equal(pool.circuit, 'open');
  });

  test('when the probes find an instance not ready, then no request goes to it, and once they pass again it takes its share', async () => {
    const [a, b] = await startInstances(2);
    assert.ok(a !== undefined && b !== undefined);
    let bReadiness = 503;
    withReadiness(a, () => 200);
    withReadiness(b, () => bReadiness);
    const pool = probedPoolOf([a, b]);
    await pool.probed();
    for (let index = 0; index < 6; index += 1) assert.equal(await send(pool), 200);
    assert.equal(requestsTo(a).length, 6);
    assert.deepEqual(requestsTo(b), [], 'the instance its probes found down got nothing');
    assert.deepEqual(pool.health().instances.map((instance) => [instance.state, instance.reason]), [['healthy', 'answered 200'], ['down', 'answered 503']]);

    bReadiness = 200;
    await until(() => pool.health().instances[1]?.state === 'healthy', 5000, 'b back up');
    for (let index = 0; index < 4; index += 1) assert.equal(await send(pool), 200);
    assert.equal(requestsTo(b).length, 2, 'b is back in the rotation');
  });

  test('when every instance is down by its probes, then a request fails at once as no-healthy-instance with a Retry-After, sends nothing, and leaves the circuit closed', async () => {
    const [a, b] = await startInstances(2);
    assert.ok(a !== undefined && b !== undefined);
    let readiness = 200;
    withReadiness(a, () => readiness);
    withReadiness(b, () => readiness);
    const pool = probedPoolOf([a, b], { breakerVolumeThreshold: 2 });
    await pool.probed();
    readiness = 503;
    await until(() => !pool.health().up, 5000, 'both down');
    for (let index = 0; index < 5; index += 1) {
      const startedAt = performance.now();
      await assert.rejects(pool.request(get()), (error: unknown) => error instanceof UpstreamUnavailableError && error.kind === 'no-healthy-instance' && error.retryAfterSeconds >= 1);
      assert.ok(performance.now() - startedAt < 200, 'refused at once');
    }
    assert.deepEqual([...requestsTo(a), ...requestsTo(b)], []);
    assert.equal(pool.circuit, 'closed', 'the circuit judges answers, and the probes will say when an instance is back');

    readiness = 200;
    await until(() => pool.health().up, 5000, 'back up');
    assert.equal(await send(pool), 200);
  });

  test('when an ejected instance has rested and a probe then passes, then it is back in rotation without a request probing it', async () => {
    const [a, b] = await startInstances(2);
    assert.ok(a !== undefined && b !== undefined);
    let aFails = true;
    withReadiness(a, () => 200, (_request, response) => { response.writeHead(aFails ? 502 : 200).end(); });
    withReadiness(b, () => 200);
    const pool = probedPoolOf([a, b], { failuresToEject: 1, ejectMs: 150, breakerVolumeThreshold: 1000 });
    await pool.probed();
    assert.equal(await send(pool), 200, 'the GET that a failed was retried on b');
    const ejected = pool.health().instances[0];
    assert.equal(ejected?.state, 'ejected');
    assert.match(ejected.reason, /^1 request failed in a row; out of rotation until /);
    aFails = false;
    const sentToA = requestsTo(a).length;
    await until(() => pool.health().instances[0]?.state === 'healthy', 5000, 'a back in rotation');
    assert.equal(requestsTo(a).length, sentToA, 'no request was needed to bring it back');
    for (let index = 0; index < 4; index += 1) assert.equal(await send(pool), 200);
    assert.equal(requestsTo(a).length - sentToA, 2, 'it takes its share again');
  });
});
