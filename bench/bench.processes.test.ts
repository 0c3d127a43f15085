import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { requireService } from '../src/platform/testing/services.ts';
import { embeddedServerUrl } from '../src/platform/testing/test-database.ts';
import { nginxUnavailableReason } from '../tools/local-nginx.ts';
import { serviceRoles } from '../src/apps/services.ts';
import { runBench } from './bench.ts';
import { scenarioNames, type BenchReport } from './bench-result.ts';
import { renderText } from './report.ts';

// A smoke test of the harness, not of OrderStream's speed: a tiny run must produce a complete,
// well-formed result. It runs on the test server's PostgreSQL (a database of its own) to save a start.
test('when the benchmark runs for a second per scenario, then every scenario and every ceiling are measured, written as JSON and rendered', { timeout: 150_000 }, async () => {
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
    const ceilings = ['http-ceiling', 'commit-ceiling', 'statement-ceiling', 'db-ceiling', 'copy-in-ceiling', 'copy-out-ceiling'];
    // The document jobs and their COPY ceilings are whole-job figures (rows per second), without request latencies.
    const rowsPerSecond = new Set(['import', 'export', 'copy-in-ceiling', 'copy-out-ceiling']);
    assert.deepEqual(report.results.map((result) => result.name).sort(), [...scenarioNames, ...ceilings].sort());
    for (const result of report.results) {
      assert.ok(Number.isFinite(result.throughput) && result.throughput > 0, `${result.name} throughput ${result.throughput}`);
      assert.equal(result.errors.total, 0, `${result.name} errors`);
      assert.equal(result.metric === 'rows/s', rowsPerSecond.has(result.name), `${result.name} metric ${result.metric}`);
      if (result.name !== 'db-ceiling' && !rowsPerSecond.has(result.name)) {
        const latency = result.latencyMs;
        assert.ok(latency !== null && [latency.p50, latency.p95, latency.p99].every((value) => Number.isFinite(value) && value > 0), `${result.name} latency`);
        assert.ok(latency.p50 <= latency.p99, `${result.name} percentiles in order`);
      }
      assert.ok(Number.isFinite(result.resources.app.cpuSeconds) && result.resources.app.peakRssMb > 0, `${result.name} app resources`);
      assert.ok(result.resources.postgres !== null && result.resources.postgres.processes > 0, `${result.name} postgres resources`);
    }
    const ratioOf = (name: string) => report.results.find((result) => result.name === name)?.ratio;
    assert.equal(ratioOf('catalog-read')?.ceiling, 'http-ceiling');
    assert.equal(ratioOf('import')?.ceiling, 'copy-in-ceiling');
    assert.equal(ratioOf('export')?.ceiling, 'copy-out-ceiling');
    assert.ok(['commit-ceiling', 'statement-ceiling'].includes(ratioOf('saga')?.ceiling ?? ''), `saga compared with ${ratioOf('saga')?.ceiling}`);
    assert.ok([ratioOf('catalog-read')?.value, ratioOf('saga')?.value].every((value) => value !== undefined && Number.isFinite(value) && value > 0));
    for (const name of ['saga', 'place-order']) {
      const load = report.results.find((result) => result.name === name)?.databaseLoad;
      assert.ok(load !== null && load !== undefined, `${name} has a database load`);
      assert.ok([load.commitsPerOrder, load.statementsPerOrder].every((value) => value !== null && value > 0), `${name} per order: ${JSON.stringify(load)}`);
      assert.ok([load.commitCeilingShare, load.statementCeilingShare, load.replayShare].every((value) => value !== null && Number.isFinite(value) && value > 0), `${name} shares`);
    }
    assert.equal(report.settings.physicalCeilings.measured, true);
    // OrderStream ran as a process of its own: `app` is that process, with no breakdown to repeat it.
    assert.equal(report.settings.processes, null);
    assert.deepEqual(report.results.filter((result) => result.resources.processes !== null).map((result) => result.name), []);
    for (const name of ['import', 'export']) {
      const details = report.results.find((result) => result.name === name)?.details ?? assert.fail(`no ${name} result`);
      const atPeak = details.memoryAtPeak as { rssMb: number; heapTotalMb: number };
      assert.ok(atPeak.heapTotalMb > 0 && Number(details.peakRssMb) >= atPeak.rssMb, `${name}: the memory of OrderStream's process, seen from inside it: ${JSON.stringify(atPeak)}`);
    }
    const statements = report.orderStatements;
    assert.ok(statements !== null && statements.statements > 0 && statements.commits > 0 && statements.commits <= statements.statements);
    assert.ok(statements.byTable['orders.orders'] !== undefined, 'the captured saga writes the order');
    const invoices = report.invoices;
    assert.ok(invoices !== null && invoices.firstDownloads.count > 0 && invoices.storedDownloads.count === invoices.firstDownloads.count, 'invoices downloaded twice');
    assert.ok(invoices.drawn >= invoices.firstDownloads.count && invoices.recorded >= invoices.drawn, `invoices drawn on download: ${JSON.stringify(invoices)}`);

    const written = JSON.parse(await readFile(run.resultsFile, 'utf8')) as BenchReport;
    assert.equal(path.dirname(run.resultsFile), folder);
    assert.deepEqual(written, JSON.parse(JSON.stringify(report)));

    const markdown = await readFile(docsFile, 'utf8');
    assert.match(markdown, /<!-- bench:results:begin[\s\S]*<!-- bench:results:end -->/);
    assert.match(markdown, new RegExp(`${report.machine.cores} cores`));
    assert.match(markdown, /^- saga, database load \(the orders completed in the measured window\): [\d.,]+ commits per order × /m);
    for (const name of [...scenarioNames, ...ceilings]) {
      assert.match(markdown, new RegExp(`^\\| \\(?${name}\\)? \\|`, 'm'), `a table row for ${name}`);
      assert.match(renderText(report), new RegExp(`^\\(?${name}\\)?\\s`, 'm'));
    }
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});

const kafka = requireService('Kafka', 'KAFKA_BROKERS');
const nginxMissing = nginxUnavailableReason();
if (nginxMissing !== undefined && process.env.REQUIRE_SERVICES === '1') throw new Error(`nginx is required (REQUIRE_SERVICES=1): ${nginxMissing}`);

// The same smoke test for the services shape: nginx, two gateways and a process per service as
// child processes (started by the services runner's own functions), their databases on the test server.
test('when the services shape is benchmarked for a second per scenario, then its scenarios are measured across every process, with the physical ceilings but without a db-ceiling', {
  skip: kafka.skip || (nginxMissing ?? false), timeout: 300_000,
}, async () => {
  const folder = await mkdtemp(path.join(tmpdir(), 'orderstream-bench-services-test-'));
  try {
    const docsFile = path.join(folder, 'benchmarks.md');
    const { report } = await runBench({
      shape: 'services', durationSeconds: 1, warmUpSeconds: 0.5, connections: 2, scenarios: ['catalog-read', 'place-order'], products: 12, customers: 2,
      drainTimeoutSeconds: 60, resultsDir: folder, docsFile, command: 'bench services smoke test', databaseServerUrl: embeddedServerUrl(),
      ...(kafka.url === undefined ? {} : { kafkaBrokers: kafka.url }),
    });

    assert.equal(report.ok, true, `the run had errors: ${report.problems.join('; ')}`);
    assert.equal(report.settings.shape, 'services');
    assert.deepEqual(report.settings.processes?.orderstream.slice().sort(), ['gateway-1', 'gateway-2', ...serviceRoles].sort());
    assert.ok(report.settings.processes.others.includes('nginx'), 'nginx is sampled');
    assert.equal(report.settings.databaseCeiling.measured, false);
    assert.equal(report.orderStatements, null, 'no statements are captured from child processes');
    assert.ok(report.invoices !== null && report.invoices.firstDownloads.count > 0, 'invoices downloaded through nginx and a gateway');
    assert.deepEqual(report.results.map((result) => result.name).sort(), ['catalog-read', 'commit-ceiling', 'http-ceiling', 'place-order', 'statement-ceiling']);
    const placed = report.results.find((result) => result.name === 'place-order')?.databaseLoad;
    assert.ok(placed?.commitCeilingShare !== null && placed?.statementsPerOrder === null, 'commits per order against the commit-ceiling; no statements counted');
    for (const result of report.results) {
      assert.ok(Number.isFinite(result.throughput) && result.throughput > 0, `${result.name} throughput ${result.throughput}`);
      assert.equal(result.errors.total, 0, `${result.name} errors`);
      assert.ok(result.latencyMs !== null && result.latencyMs.p50 > 0 && result.latencyMs.p50 <= result.latencyMs.p99, `${result.name} latency`);
      assert.ok(result.resources.postgres !== null && result.resources.postgres.processes > 0, `${result.name} postgres resources`);
      assert.ok(result.resources.app.peakRssMb > 0, `${result.name} app memory`);
    }
    for (const name of ['catalog-read', 'place-order']) {
      const { app, processes } = report.results.find((result) => result.name === name)?.resources ?? assert.fail(`no ${name} result`);
      assert.ok(processes !== null, `${name} has a per-process breakdown`);
      const parts = report.settings.processes.orderstream.map((process) => processes[process] ?? assert.fail(`${name}: no usage of ${process}`));
      const withoutMemory: string[] = report.settings.processes.orderstream.filter((part) => !((processes[part]?.peakRssMb ?? 0) > 0));
      assert.deepEqual(withoutMemory, [], `${name}: every OrderStream process has memory`);
      const summed = parts.reduce((sum, part) => sum + part.cpuSeconds, 0);
      assert.ok(Math.abs(app.cpuSeconds - summed) < 0.1 && app.cpuSeconds > 0, `${name}: app CPU ${app.cpuSeconds} s is the processes' ${summed} s`);
      assert.ok(processes.nginx !== undefined, `${name}: nginx is in the breakdown`);
    }
    for (const name of ['http-ceiling', 'commit-ceiling', 'statement-ceiling']) {
      assert.equal(report.results.find((result) => result.name === name)?.resources.processes, null, `${name} runs in the harness's process`);
    }

    const markdown = await readFile(docsFile, 'utf8');
    assert.match(markdown, /Settings: services shape \(nginx → gateway-1, gateway-2 → /);
    assert.match(markdown, /db-ceiling: not measured in the services shape/);
    assert.doesNotMatch(markdown, /^\| \(db-ceiling\) \|/m);
    assert.match(renderText(report), /^Shape: services shape/);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});

test('when `orderstream bench` is given a bad value, then it exits with code 2 and a clear message, without a stack trace', async () => {
  const cli = new URL('../src/cli.ts', import.meta.url).pathname;
  for (const [args, message] of [
    [['--shape', 'cluster'], /Unknown shape "cluster"; use single or services/],
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
