import path from 'node:path';
import { tailOf } from '../tools/background-process.ts';
import { serverNodeFlags } from '../src/cli/server-node-flags.ts';
import { configSchema } from '../src/platform/config/config.ts';
import { freeLoopbackPort, hasExited, startLogged, stopChild, waitForReady } from './child-processes.ts';
import { OrderStreamProbe } from './orderstream-probe.ts';
import type { WatchedProcess } from './resource-sampler.ts';

/**
 * The single shape as the benchmark runs it: `node src/cli.ts start`, what `npm start` runs, as a
 * child process of the benchmark, so that the CPU and memory sampled as the app's are OrderStream's
 * alone and it never outlives the run. It listens on a free loopback port (its operations listener
 * on another), on the database given in DATABASE_URL, its output appended to `orderstream.log` in
 * the run's folder. One addition to what a user runs: a preload (bench/orderstream-probe-preload.ts)
 * that the harness asks, over an IPC channel, to record or count the statements the process sends
 * and to watch its memory; idle otherwise.
 */

const projectRoot = path.resolve(import.meta.dirname, '..');
const preload = path.join(import.meta.dirname, 'orderstream-probe-preload.ts');
/** Migrations on a fresh database included, on a loaded 2-core machine. */
const startTimeoutMs = 120_000;

/**
 * Node.js flags of the single shape's OrderStream process, besides the preload: those `npm start`
 * runs it with (decision 0031). The one place to try another runtime setting on what is measured.
 */
export const singleProcessNodeArguments: readonly string[] = serverNodeFlags;

/** The single shape's process, started and ready. */
export interface RunningSingleProcess {
  /** Where the API answers. */
  baseUrl: string;
  /** Its pid, for the resource sampler. */
  process: WatchedProcess;
  probe: OrderStreamProbe;
  logFile: string;
  /** SIGTERM (it finishes in-flight work), SIGKILL if it is still running after 15 s. */
  stop(): Promise<void>;
}

/**
 * Starts `node src/cli.ts start` with `env` (DATABASE_URL and every setting it runs with) and its
 * own address; resolves once its `/readyz` answers 200, or fails with the end of its log when it
 * exits first or is not ready within two minutes.
 */
export async function startSingleShapeProcess(options: { dir: string; env: NodeJS.ProcessEnv; log: (line: string) => void }): Promise<RunningSingleProcess> {
  const { log } = options;
  const port = await freeLoopbackPort(new Set());
  const baseUrl = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = { ...options.env, HOST: '127.0.0.1', PORT: String(port), OPS_HOST: '127.0.0.1', OPS_PORT: '0' };
  log(`starting OrderStream: node ${[...singleProcessNodeArguments, 'src/cli.ts', 'start'].join(' ')} (log in ${path.join(options.dir, 'orderstream.log')})`);
  const started = startLogged('orderstream', process.execPath, [...singleProcessNodeArguments, '--import', preload, 'src/cli.ts', 'start'], { cwd: projectRoot, env, ipc: true }, options.dir);
  const { child } = started;
  // Once ready and until stopped, an exit is news: the scenarios would only see refused connections.
  let running = false;
  // Should the benchmark exit without stopping it (a Ctrl-C while starting), it must not outlive it.
  const killOnExit = () => {
    if (!hasExited(child)) child.kill('SIGKILL');
  };
  process.on('exit', killOnExit);
  child.once('exit', (code, signal) => {
    if (!running) return;
    void tailOf(started.logFile, 20).then((tail) => {
      log(`OrderStream's process exited (${signal ?? String(code)}) while the benchmark ran; the end of ${started.logFile}:\n${tail}`);
    }, () => undefined);
  });
  const stop = async () => {
    running = false;
    process.removeListener('exit', killOnExit);
    await stopChild(child);
  };
  const probe = new OrderStreamProbe(child);
  try {
    await waitForReady(started, `${baseUrl}/readyz`, startTimeoutMs);
  } catch (error) {
    await stop();
    throw error;
  }
  if (child.pid === undefined) throw new Error('OrderStream\'s process has no pid');
  running = true;
  return { baseUrl, process: { name: 'orderstream', pid: child.pid }, probe, logFile: started.logFile, stop };
}

/**
 * `env` without OrderStream's settings but for tracing's: what the single shape runs with is the
 * benchmark's alone (a DATABASE_URL or REDIS_URL in the shell must not change what is measured),
 * while `OTEL_EXPORTER_OTLP_ENDPOINT=… orderstream bench` measures it with tracing on.
 */
export function environmentWithoutSettings(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const settings = new Set(Object.keys(configSchema.shape).filter((name) => !name.startsWith('OTEL_')));
  return Object.fromEntries(Object.entries(env).filter(([name]) => !settings.has(name)));
}
