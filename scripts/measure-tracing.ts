/**
 * What tracing costs order placement: `node scripts/measure-tracing.ts [seconds] [connections] [rounds] [ratio]`.
 * Runs `scripts/measure-orders.ts` (autocannon POST /v1/orders against one process on a fresh
 * embedded PostgreSQL) alternately with tracing off and on, `rounds` times each (default 2), in one
 * run; tracing on exports over OTLP/HTTP to a local collector that accepts and discards. With a
 * `ratio` (e.g. 0.1), a third mode samples that share of traces (OTEL_TRACES_SAMPLER_ARG). Prints
 * each run and the medians side by side. Throughput swings with whatever else the machine runs; CPU
 * time per order (node and its PostgreSQL together, from /usr/bin/time where it exists) swings less.
 * Numbers go in notes only with the command that produced them.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

const seconds = process.argv[2] ?? '15';
const connections = process.argv[3] ?? '16';
const rounds = Number(process.argv[4] ?? 2);
const ratio = process.argv[5];

interface Mode {
  name: string;
  /** OTEL_TRACES_SAMPLER_ARG when tracing; undefined: tracing off. */
  sampleRatio: string | undefined;
}
const modes: Mode[] = [{ name: 'off', sampleRatio: undefined }, { name: 'on', sampleRatio: '1' }, ...(ratio === undefined ? [] : [{ name: `sampled ${ratio}`, sampleRatio: ratio }])];

interface OrdersRun {
  post: { accepted: number; perSecond: number; p50Ms: number; p99Ms: number; non2xxOrErrors: number };
  saga: { confirmed: number; completionsPerSecond: number; drainSeconds: number };
  /** CPU (user + system) of the run's process and its PostgreSQL, per accepted order; undefined without /usr/bin/time. */
  cpuMsPerOrder?: number;
}

const timeCommand = '/usr/bin/time';

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

/** One measure-orders run in a process of its own (a tracer provider is global to its process). */
async function measure(mode: Mode): Promise<OrdersRun> {
  const env = { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: mode.sampleRatio === undefined ? '' : endpoint, OTEL_TRACES_SAMPLER_ARG: mode.sampleRatio ?? '1' };
  const command = [process.execPath, '--import', './src/platform/observability/register.ts', 'scripts/measure-orders.ts', seconds, connections];
  // The embedded PostgreSQL is a child the run waits for, so its CPU is counted with the run's.
  const cpuFile = path.join(tmpdir(), `measure-tracing-cpu-${String(process.pid)}.txt`);
  const timed = existsSync(timeCommand);
  const [executable, ...args] = timed ? [timeCommand, '-f', '%U %S', '-o', cpuFile, ...command] : command;
  const child = spawn(executable ?? process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString('utf8'); });
  const code = await new Promise<number | null>((resolve) => { child.on('exit', resolve); });
  // The report is the one pretty-printed object; log lines around it are one line each.
  const start = output.indexOf('{\n  "machine"');
  const end = output.indexOf('\n}\n', start);
  if (code !== 0 || start === -1 || end === -1) throw new Error(`measure-orders failed (exit ${String(code)}):\n${output.slice(-2000)}`);
  const run = JSON.parse(output.slice(start, end + 2)) as OrdersRun;
  if (timed) {
    const [user = 0, system = 0] = (await readFile(cpuFile, 'utf8')).trim().split(/\s+/).map(Number);
    await rm(cpuFile, { force: true });
    run.cpuMsPerOrder = Math.round(((user + system) * 1000 / Math.max(1, run.post.accepted)) * 100) / 100;
  }
  return run;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

const runs: { mode: Mode; result: OrdersRun }[] = [];
try {
  for (let round = 0; round < rounds; round += 1) {
    for (const mode of modes) {
      const exportsBefore = exports;
      const result = await measure(mode);
      runs.push({ mode, result });
      console.error(`tracing ${mode.name}: ${JSON.stringify({ ...result.post, sagaPerSecond: result.saga.completionsPerSecond, confirmed: result.saga.confirmed, cpuMsPerOrder: result.cpuMsPerOrder, otlpExports: exports - exportsBefore })}`);
    }
  }
} finally {
  collector.close();
}
const summary = (mode: Mode) => {
  const of = runs.filter((run) => run.mode === mode).map((run) => run.result);
  return {
    postPerSecond: median(of.map((run) => run.post.perSecond)),
    p50Ms: median(of.map((run) => run.post.p50Ms)),
    p99Ms: median(of.map((run) => run.post.p99Ms)),
    sagaCompletionsPerSecond: median(of.map((run) => run.saga.completionsPerSecond)),
    cpuMsPerOrder: median(of.map((run) => run.cpuMsPerOrder ?? Number.NaN)),
    errors: of.reduce((sum, run) => sum + run.post.non2xxOrErrors, 0),
  };
};
const [offMode, ...tracedModes] = modes;
if (offMode === undefined) throw new Error('no modes');
const off = summary(offMode);
const percent = (value: number, base: number) => `${Math.round(((value - base) / base) * 1000) / 10}%`;
console.log(JSON.stringify({
  load: { seconds: Number(seconds), connections: Number(connections), roundsEach: rounds },
  medians: Object.fromEntries(modes.map((mode) => [mode.name, summary(mode)])),
  changeFromOff: Object.fromEntries(tracedModes.map((mode) => {
    const traced = summary(mode);
    return [mode.name, {
      postPerSecond: percent(traced.postPerSecond, off.postPerSecond),
      sagaCompletionsPerSecond: percent(traced.sagaCompletionsPerSecond, off.sagaCompletionsPerSecond),
      p99Ms: `${Math.round((traced.p99Ms - off.p99Ms) * 10) / 10} ms`,
      cpuMsPerOrder: percent(traced.cpuMsPerOrder, off.cpuMsPerOrder),
    }];
  })),
  collector: { exports, megabytes: Math.round(exportedBytes / 1e5) / 10 },
}, null, 2));
