import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { embeddedServerUrl } from '../../platform/testing/test-database.ts';
import { runBench } from './bench.ts';
import { scenarioNames, type BenchReport } from './bench-result.ts';
import { renderText } from './report.ts';

// A smoke test of the harness, not of OrderStream's speed: a tiny run must produce a complete,
// well-formed result. It runs on the test server's PostgreSQL (a database of its own) to save a start.
test('when the benchmark runs for a second per scenario, then every scenario and both ceilings are measured, written as JSON and rendered', { timeout: 150_000 }, async () => {
  const folder = await mkdtemp(path.join(tmpdir(), 'orderstream-bench-test-'));
  try {
    const docsFile = path.join(folder, 'benchmarks.md');
    const run = await runBench({
      shape: 'single', durationSeconds: 1, warmUpSeconds: 0.5, connections: 2, scenarios: scenarioNames, products: 12, customers: 2,
      drainTimeoutSeconds: 45, resultsDir: folder, docsFile, command: 'bench smoke test', databaseServerUrl: embeddedServerUrl(),
    });
    const { report } = run;

    assert.equal(report.ok, true, `the run had errors: ${report.problems.join('; ')}`);
    assert.match(report.machine.postgres, /^\d+(\.\d+)?/);
    assert.equal(report.machine.cores > 0 && report.machine.node, process.version);
    assert.deepEqual(report.results.map((result) => result.name).sort(), [...scenarioNames, 'db-ceiling', 'http-ceiling'].sort());
    for (const result of report.results) {
      assert.ok(Number.isFinite(result.throughput) && result.throughput > 0, `${result.name} throughput ${result.throughput}`);
      assert.equal(result.errors.total, 0, `${result.name} errors`);
      if (result.name !== 'db-ceiling') {
        const latency = result.latencyMs;
        assert.ok(latency !== null && [latency.p50, latency.p95, latency.p99].every((value) => Number.isFinite(value) && value > 0), `${result.name} latency`);
        assert.ok(latency.p50 <= latency.p99, `${result.name} percentiles in order`);
      }
      assert.ok(Number.isFinite(result.resources.app.cpuSeconds) && result.resources.app.peakRssMb > 0, `${result.name} app resources`);
      assert.ok(result.resources.postgres !== null && result.resources.postgres.processes > 0, `${result.name} postgres resources`);
    }
    const ratioOf = (name: string) => report.results.find((result) => result.name === name)?.ratio;
    assert.equal(ratioOf('catalog-read')?.ceiling, 'http-ceiling');
    assert.equal(ratioOf('saga')?.ceiling, 'db-ceiling');
    assert.ok([ratioOf('catalog-read')?.value, ratioOf('saga')?.value].every((value) => value !== undefined && Number.isFinite(value) && value > 0));
    const statements = report.orderStatements;
    assert.ok(statements !== null && statements.statements > 0 && statements.commits > 0 && statements.commits <= statements.statements);
    assert.ok(statements.byTable['orders.orders'] !== undefined, 'the captured saga writes the order');

    const written = JSON.parse(await readFile(run.resultsFile, 'utf8')) as BenchReport;
    assert.equal(path.dirname(run.resultsFile), folder);
    assert.deepEqual(written, JSON.parse(JSON.stringify(report)));

    const markdown = await readFile(docsFile, 'utf8');
    assert.match(markdown, /<!-- bench:results:begin[\s\S]*<!-- bench:results:end -->/);
    assert.match(markdown, new RegExp(`${report.machine.cores} cores`));
    for (const name of [...scenarioNames, 'http-ceiling', 'db-ceiling']) {
      assert.match(markdown, new RegExp(`^\\| \\(?${name}\\)? \\|`, 'm'), `a table row for ${name}`);
      assert.match(renderText(report), new RegExp(`^\\(?${name}\\)?\\s`, 'm'));
    }
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});

test('when `orderstream bench` is given the services shape or a bad value, then it exits with code 2 and a clear message, without a stack trace', async () => {
  const cli = new URL('../../cli.ts', import.meta.url).pathname;
  for (const [args, message] of [
    [['--shape', 'services'], /services shape is not built yet/],
    [['--duration', '5x'], /--duration "5x" is not a duration/],
    [['--connections', 'many'], /--connections "many" must be a whole number/],
    [['--scenario', 'checkout'], /Unknown scenario "checkout"/],
  ] as const) {
    const outcome = await promisify(execFile)(process.execPath, [cli, 'bench', ...args])
      .then(() => ({ code: 0, stderr: '' }), (error: unknown) => error as { code: number; stderr: string });

    assert.equal(outcome.code, 2, args.join(' '));
    assert.match(outcome.stderr, message);
    assert.doesNotMatch(outcome.stderr, /\n\s+at /);
  }
});
