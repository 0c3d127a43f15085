/**
 * What tracing costs order placement: `node bench/measure-tracing.ts [duration] [connections] [rounds] [ratio]`.
 * Runs the benchmark's place-order scenario (`orderstream bench --scenario place-order`, each run on
 * a fresh embedded PostgreSQL) alternately with tracing off and on, `rounds` times each (default 2),
 * in one invocation; tracing on exports over OTLP/HTTP to a local collector that accepts and
 * discards. With a `ratio` (e.g. 0.1), a third mode samples that share of traces
 * (OTEL_TRACES_SAMPLER_ARG). Prints each run and the medians side by side. Throughput swings with
 * whatever else the machine runs; CPU time per order (OrderStream's process and its PostgreSQL,
 * as the bench samples them) swings less. The runs' JSON results go to a temporary folder;
 * docs/benchmarks.md is left alone.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BenchReport, ScenarioResult } from './bench-result.ts';

const duration = process.argv[2] ?? '10s';
const connections = process.argv[3] ?? '16';
const rounds = Number(process.argv[4] ?? 2);
const ratio = process.argv[5];

interface Mode {
  name: string;
  /** OTEL_TRACES_SAMPLER_ARG when tracing; undefined: tracing off. */
  sampleRatio: string | undefined;
}
const modes: Mode[] = [{ name: 'off', sampleRatio: undefined }, { name: 'on', sampleRatio: '1' }, ...(ratio === undefined ? [] : [{ name: `sampled ${ratio}`, sampleRatio: ratio }])];

interface PlaceOrderRun {
  ordersPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  endToEndOrdersPerSecond: number;
  /** CPU (user + system) of OrderStream's process and of its PostgreSQL during the measured POSTs, per accepted order. */
  cpuMsPerOrder: number;
  tracing: boolean;
}

// The collector: answers every export at once and keeps nothing but counts.
let exports = 0;
let exportedBytes = 0;
const collector = createServer((request, response) => {
  request.on('data', (chunk: Buffer) => { exportedBytes += chunk.length; });
  request.on('end', () => {
    exports += 1;
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
await new Promise<void>((resolve) => { collector.listen(0, '127.0.0.1', resolve); });
const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;

/** One bench run in a process of its own (a tracer provider is global to its process). */
async function measure(mode: Mode): Promise<PlaceOrderRun> {
  const resultsDir = await mkdtemp(path.join(tmpdir(), 'measure-tracing-'));
  try {
    const env = { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: mode.sampleRatio === undefined ? '' : endpoint, OTEL_TRACES_SAMPLER_ARG: mode.sampleRatio ?? '1' };
    const args = ['src/cli.ts', 'bench', '--scenario', 'place-order', '--duration', duration, '--connections', connections, '--results-dir', resultsDir, '--docs', 'none'];
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
    const code = await new Promise<number | null>((resolve) => { child.on('exit', resolve); });
    const [file] = await readdir(resultsDir);
    if (code !== 0 || file === undefined) throw new Error(`the bench failed (exit ${String(code)})`);
    const report = JSON.parse(await readFile(path.join(resultsDir, file), 'utf8')) as BenchReport;
    const placed = report.results.find((result) => result.name === 'place-order');
    if (placed === undefined) throw new Error('the bench reported no place-order result');
    return summarise(placed, report.settings.tracing.enabled);
  } finally {
    await rm(resultsDir, { recursive: true, force: true });
  }
}

function summarise(placed: ScenarioResult, tracing: boolean): PlaceOrderRun {
  const requests = Math.max(1, Number(placed.details.requests ?? 0));
  const cpuSeconds = placed.resources.app.cpuSeconds + (placed.resources.postgres?.cpuSeconds ?? 0);
  return {
    ordersPerSecond: placed.throughput,
    p50Ms: placed.latencyMs?.p50 ?? Number.NaN,
    p99Ms: placed.latencyMs?.p99 ?? Number.NaN,
    errors: placed.errors.total,
    endToEndOrdersPerSecond: Number(placed.details.endToEndOrdersPerSecond ?? Number.NaN),
    cpuMsPerOrder: Math.round((cpuSeconds * 1000 / requests) * 100) / 100,
    tracing,
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

const runs: { mode: Mode; result: PlaceOrderRun }[] = [];
try {
  for (let round = 0; round < rounds; round += 1) {
    for (const mode of modes) {
      const exportsBefore = exports;
      const result = await measure(mode);
      runs.push({ mode, result });
      console.error(`tracing ${mode.name}: ${JSON.stringify({ ...result, otlpExports: exports - exportsBefore })}`);
      if (result.tracing !== (mode.sampleRatio !== undefined)) throw new Error(`the bench ran with tracing ${result.tracing ? 'on' : 'off'} in mode ${mode.name}`);
    }
  }
} finally {
  collector.close();
}
const summary = (mode: Mode) => {
  const of = runs.filter((run) => run.mode === mode).map((run) => run.result);
  return {
    ordersPerSecond: median(of.map((run) => run.ordersPerSecond)),
    p50Ms: median(of.map((run) => run.p50Ms)),
    p99Ms: median(of.map((run) => run.p99Ms)),
    endToEndOrdersPerSecond: median(of.map((run) => run.endToEndOrdersPerSecond)),
    cpuMsPerOrder: median(of.map((run) => run.cpuMsPerOrder)),
    errors: of.reduce((sum, run) => sum + run.errors, 0),
  };
};
const [offMode, ...tracedModes] = modes;
if (offMode === undefined) throw new Error('no modes');
const off = summary(offMode);
const percent = (value: number, base: number) => `${Math.round(((value - base) / base) * 1000) / 10}%`;
console.log(JSON.stringify({
  load: { scenario: 'place-order', duration, connections: Number(connections), roundsEach: rounds },
  medians: Object.fromEntries(modes.map((mode) => [mode.name, summary(mode)])),
  changeFromOff: Object.fromEntries(tracedModes.map((mode) => {
    const traced = summary(mode);
    return [mode.name, {
      ordersPerSecond: percent(traced.ordersPerSecond, off.ordersPerSecond),
      endToEndOrdersPerSecond: percent(traced.endToEndOrdersPerSecond, off.endToEndOrdersPerSecond),
      p99Ms: `${Math.round((traced.p99Ms - off.p99Ms) * 10) / 10} ms`,
      cpuMsPerOrder: percent(traced.cpuMsPerOrder, off.cpuMsPerOrder),
    }];
  })),
  collector: { exports, megabytes: Math.round(exportedBytes / 1e5) / 10 },
}, null, 2));
