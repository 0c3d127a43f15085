import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { UpstreamHealthChecks, type HealthCheckSettings } from './upstream-health-checks.ts';

/** A real HTTP server on loopback whose `/readyz` answers `status`, or never when `hang`; it counts the probes it gets and those still open. */
class ProbedInstance {
  status = 200;
  hang = false;
  /** Status of each answered probe, in order. */
  readonly answered: number[] = [];
  received = 0;
  open = 0;
  mostOpenAtOnce = 0;
  readonly #server: Server;

  constructor() {
    this.#server = createServer((request, response) => {
      this.received += 1;
      this.open += 1;
      this.mostOpenAtOnce = Math.max(this.mostOpenAtOnce, this.open);
      response.once('close', () => { this.open -= 1; });
      if (this.hang) return;
      this.answered.push(this.status);
      response.writeHead(this.status, { 'content-type': 'application/json' }).end('{}');
    });
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Listens on a given port (for an instance that comes up where probes already look). */
  listen(port: number, listening: () => void): void {
    this.#server.listen(port, '127.0.0.1', listening);
  }

  async start(): Promise<this> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    return this;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, 'close');
  }
}

const instances: ProbedInstance[] = [];
const checks: UpstreamHealthChecks[] = [];
after(async () => {
  await Promise.all(checks.map((check) => check.close()));
  await Promise.all(instances.map((instance) => instance.stop()));
});

async function probedInstance(): Promise<ProbedInstance> {
  const instance = await new ProbedInstance().start();
  instances.push(instance);
  return instance;
}

function healthChecks(settings: Partial<HealthCheckSettings>): UpstreamHealthChecks {
  const created = new UpstreamHealthChecks({ intervalMs: 50, timeoutMs: 1000, ...settings });
  checks.push(created);
  return created;
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`${what} within ${timeoutMs} ms`);
    await sleep(5);
  }
}

describe('upstream health checks', () => {
  test('when an instance answers 503, then it is down after the configured failed probes in a row, and up after the configured passes once it answers 200', async () => {
    const instance = await probedInstance();
    const changes: { up: boolean; reason: string; answered: number[] }[] = [];
    const probes = healthChecks({
      failuresToMarkDown: 3, passesToMarkUp: 2,
      onChange: (_url, change) => { changes.push({ ...change, answered: [...instance.answered] }); },
    });
    probes.watch(instance.url);
    probes.start();
    await probes.firstOutcomes([instance.url]);
    assert.equal(probes.healthOf(instance.url).verdict, 'up');
    assert.equal(changes.length, 0, 'an instance up at start is no change');

    instance.status = 503;
    await until(() => changes.length === 1, 5000, 'marked down');
    const down = changes[0];
    assert.ok(down !== undefined);
    assert.equal(down.up, false);
    assert.equal(down.reason, 'answered 503');
    assert.deepEqual(down.answered.slice(-4), [200, 503, 503, 503], 'down on the third failure in a row, not before');
    assert.equal(probes.healthOf(instance.url).lastOutcome, 'answered 503');

    instance.status = 200;
    await until(() => changes.length === 2, 5000, 'marked up');
    const up = changes[1];
    assert.ok(up !== undefined);
    assert.equal(up.up, true);
    assert.deepEqual(up.answered.slice(-3), [503, 200, 200], 'up on the second pass in a row, not before');
    assert.ok((probes.healthOf(instance.url).lastProbeAt?.getTime() ?? 0) > Date.now() - 5000);
  });

  test('when an instance never answers, then each probe is cut off at the timeout and the next starts only after it, so one at most is in flight', async () => {
    const instance = await probedInstance();
    instance.hang = true;
    const probes = healthChecks({ intervalMs: 40, timeoutMs: 120, failuresToMarkDown: 1 });
    probes.watch(instance.url);
    probes.watch(instance.url); // a second pool with the same instance adds no second loop
    probes.start();
    const startedAt = performance.now();
    await probes.firstOutcomes([instance.url]);
    assert.ok(performance.now() - startedAt < 1000, 'the first probe ended at its timeout');
    // Never having answered, it is not marked down (a service still starting), only reported.
    assert.deepEqual({ verdict: probes.healthOf(instance.url).verdict, outcome: probes.healthOf(instance.url).lastOutcome }, { verdict: 'unknown', outcome: 'no answer within 120 ms' });
    await sleep(800);
    assert.equal(instance.mostOpenAtOnce, 1, 'never two probes at once');
    assert.ok(instance.received >= 3 && instance.received <= 8, `one probe per timeout and interval (${instance.received})`);
  });

  test('when an instance is not listening yet, then it stays unknown rather than down, is up once it answers, and down once it stops after that', async () => {
    const instance = await probedInstance();
    const url = instance.url;
    await instance.stop(); // the port is free: nothing listens on it yet, as for a service still starting
    instances.splice(instances.indexOf(instance), 1);
    const probes = healthChecks({ intervalMs: 30, timeoutMs: 500, failuresToMarkDown: 1 });
    probes.watch(url);
    probes.start();
    await probes.firstOutcomes([url]);
    await sleep(100); // several refused probes
    assert.equal(probes.healthOf(url).verdict, 'unknown', 'refused connections before any answer mark nothing down');
    assert.equal(probes.healthOf(url).lastOutcome, 'connection refused');

    const started = new ProbedInstance();
    await new Promise<void>((resolve) => { started.listen(Number(new URL(url).port), resolve); });
    instances.push(started);
    await until(() => probes.healthOf(url).verdict === 'up', 2000, 'up once it answers');
    await started.stop();
    instances.splice(instances.indexOf(started), 1);
    await until(() => probes.healthOf(url).verdict === 'down', 2000, 'down once it stops after being up');
  });

  test('when this process stalls for longer than the timeout while a probe waits for its answer, then the instance is not blamed for the stall', async () => {
    const instance = await probedInstance();
    const probes = healthChecks({ intervalMs: 5000, timeoutMs: 100 });
    probes.watch(instance.url);
    probes.start();
    await sleep(1); // after the probe's own timer: the probe has started, its answer not yet read
    const stalledUntil = performance.now() + 400;
    while (performance.now() < stalledUntil) Math.sqrt(stalledUntil); // the event loop stands still
    await probes.firstOutcomes([instance.url]);
    assert.deepEqual({ verdict: probes.healthOf(instance.url).verdict, outcome: probes.healthOf(instance.url).lastOutcome }, { verdict: 'up', outcome: 'answered 200' });
  });

  test('when the checks are closed, then the probe in flight is cut off and no other starts', async () => {
    const instance = await probedInstance();
    instance.hang = true;
    const probes = healthChecks({ intervalMs: 30, timeoutMs: 5000 });
    probes.watch(instance.url);
    probes.start();
    await until(() => instance.open === 1, 5000, 'a probe arrived');
    const startedAt = performance.now();
    await probes.close();
    assert.ok(performance.now() - startedAt < 1000, 'close did not wait for the probe\'s timeout');
    await until(() => instance.open === 0, 2000, 'the probe\'s connection closed');
    const received = instance.received;
    await sleep(200);
    assert.equal(instance.received, received, 'no probe after close');
  });
});
