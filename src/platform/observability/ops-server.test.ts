import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { createConnection } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../logging/logger.ts';
import { createMetrics } from './metrics.ts';
import { createOpsServer, type OpsServer } from './ops-server.ts';

let ops: OpsServer;
let base: string;
const metrics = createMetrics({ processMetrics: false });

before(async () => {
  ops = createOpsServer({
    metrics, logger: createLogger({ level: 'silent' }), readinessTimeoutMs: 100,
    readiness: [{ name: 'database', check: () => Promise.resolve(true) }, { name: 'kafka', check: () => new Promise(() => undefined) }],
  });
  base = (await ops.listen({ host: '127.0.0.1', port: 0 })).url;
});
after(async () => { await ops.close(); });

describe('the operations listener', () => {
  test('when /metrics is fetched, then it answers the Prometheus text format of this process\'s registry', async () => {
    metrics.ordersPlaced.inc();
    const response = await fetch(`${base}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    assert.match(text, /^# HELP orderstream_orders_placed_total /m);
    assert.match(text, /^orderstream_orders_placed_total 1$/m);
  });

  test('when /healthz and /readyz are fetched, then alive is 200 and a hung required dependency makes ready 503 in time', async () => {
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    const startedAt = performance.now();
    const ready = await fetch(`${base}/readyz`);
    assert.ok(performance.now() - startedAt < 1000, 'the hung check did not hang the probe');
    assert.equal(ready.status, 503);
    const body = await ready.json() as { status: string; checks: Record<string, { status: string; required: boolean }> };
    assert.equal(body.status, 'not-ready');
    assert.deepEqual(Object.fromEntries(Object.entries(body.checks).map(([name, result]) => [name, [result.status, result.required]])), {
      database: ['up', true], kafka: ['timeout', true],
    });
  });

  test('when another path or method is used, then 404 or 405', async () => {
    assert.equal((await fetch(`${base}/v1/orders`)).status, 404);
    assert.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
  });

  test('when a scraper keeps its connection open, then close() still returns at once', async () => {
    const other = createOpsServer({ metrics, logger: createLogger({ level: 'silent' }), readiness: [] });
    const { port } = await other.listen({ host: '127.0.0.1', port: 0 });
    const agent = new Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: '/metrics', agent }, (response) => { response.resume(); response.on('end', resolve); }).on('error', reject).end();
    });
    const startedAt = performance.now();
    await other.close();
    assert.ok(performance.now() - startedAt < 1000);
    agent.destroy();
  });

  test('when a client sends its headers one byte a second to a listener with timeouts, then it gets 408 and is cut off near the headers timeout', async () => {
    const other = createOpsServer({ metrics, logger: createLogger({ level: 'silent' }), readiness: [] });
    const { port } = await other.listen({ host: '127.0.0.1', port: 0, timeouts: { requestTimeoutMs: 1000, headersTimeoutMs: 600, keepAliveTimeoutMs: 500 } });
    const startedAt = performance.now();
    const answer = await new Promise<string>((resolve) => {
      const socket = createConnection({ port, host: '127.0.0.1' });
      const chunks: Buffer[] = [];
      const timer = setInterval(() => { if (socket.writable) socket.write('x'); }, 1000);
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', () => undefined);
      socket.on('close', () => { clearInterval(timer); resolve(Buffer.concat(chunks).toString('utf8')); });
      socket.write('GET /metrics HTTP/1.1\r\nx-slow: ');
    });
    assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.ok(performance.now() - startedAt < 600 + 2000);
    await other.close();
  });
});
