import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createLogger } from '../logging/logger.ts';
import { createHttpApp } from './app.ts';
import { runReadinessChecks, type ReadinessCheck } from './readiness.ts';

const never = (): Promise<boolean> => new Promise(() => undefined);

describe('readiness checks', () => {
  test('when a check never resolves, then the runner reports it timed out once the limit passes, not later', async () => {
    const startedAt = performance.now();
    const report = await runReadinessChecks([{ name: 'hung', check: never }, { name: 'database', check: () => Promise.resolve(true) }], { timeoutMs: 150 });
    const elapsed = performance.now() - startedAt;
    assert.ok(elapsed >= 140 && elapsed < 1000, `answered after ${Math.round(elapsed)} ms`);
    assert.equal(report.ready, false);
    assert.equal(report.checks.hung?.status, 'timeout');
    assert.equal(report.checks.database?.status, 'up');
  });

  test('when a check throws (also synchronously) or answers false, then it is down, and the others still run', async () => {
    const report = await runReadinessChecks([
      { name: 'throws', check: () => { throw new Error('boom'); } },
      { name: 'rejects', check: () => Promise.reject(new Error('boom')) },
      { name: 'false', check: () => Promise.resolve(false) },
      { name: 'fine', check: () => Promise.resolve(true) },
    ], { timeoutMs: 1000 });
    assert.deepEqual(Object.fromEntries(Object.entries(report.checks).map(([name, result]) => [name, result.status])), { throws: 'down', rejects: 'down', false: 'down', fine: 'up' });
    assert.equal(report.ready, false);
  });

  test('when only a check that is not required fails, then the process is ready but degraded', async () => {
    const report = await runReadinessChecks([
      { name: 'database', check: () => Promise.resolve(true) },
      { name: 'redis', required: false, check: never },
    ], { timeoutMs: 50 });
    assert.equal(report.ready, true);
    assert.equal(report.degraded, true);
    assert.deepEqual(report.checks.redis && { status: report.checks.redis.status, required: report.checks.redis.required }, { status: 'timeout', required: false });
  });
});

describe('/readyz', () => {
  function appWith(readiness: ReadinessCheck[]) {
    return createHttpApp({ logger: createLogger({ level: 'silent' }), bodyLimit: 1024, routes: [], readiness, readinessTimeoutMs: 200 });
  }

  test('when a dependency hangs, then /readyz answers 503 within the time limit naming it as timed out, and reports every check', async () => {
    const app = appWith([{ name: 'database', check: () => Promise.resolve(true) }, { name: 'kafka', check: never }]);
    const startedAt = performance.now();
    const response = await app.inject({ method: 'GET', url: '/readyz' });
    assert.ok(performance.now() - startedAt < 1500);
    assert.equal(response.statusCode, 503);
    assert.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8');
    const body = response.json<{ detail: string; checks: Record<string, { status: string }> }>();
    assert.match(body.detail, /kafka \(timeout\)/);
    assert.equal(body.checks.database?.status, 'up');
    assert.equal(body.checks.kafka?.status, 'timeout');
    await app.close();
  });

  test('when every required dependency answers and an optional one does not, then /readyz is 200 and says degraded', async () => {
    const app = appWith([{ name: 'database', check: () => Promise.resolve(true) }, { name: 'redis', required: false, check: () => Promise.resolve(false) }]);
    const response = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(response.statusCode, 200);
    const body = response.json<{ status: string; checks: Record<string, { status: string; required: boolean; durationMs: number }> }>();
    assert.equal(body.status, 'degraded');
    assert.equal(body.checks.redis?.status, 'down');
    assert.equal(typeof body.checks.database?.durationMs, 'number');
    await app.close();
  });
});
