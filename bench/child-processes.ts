import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { tailOf } from '../tools/background-process.ts';

/**
 * How the benchmark runs OrderStream's processes (either shape) and nginx as its own children: output
 * to a log file each, readiness asked over HTTP, a graceful stop with a bound, and a free loopback
 * port for each listener.
 */

const stopGraceMs = 15_000;

/** A child process of the benchmark, by the name its log file and errors give it. */
export interface StartedProcess {
  name: string;
  child: ChildProcess;
  logFile: string;
}

/**
 * Starts `command` with its output appended to `<logs>/<name>.log`. With `ipc`, it also gets an
 * IPC channel (structured-clone serialization, so dates and buffers cross it as they are).
 */
export function startLogged(name: string, command: string, args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv; ipc?: boolean }, logs: string): StartedProcess {
  const logFile = path.join(logs, `${name}.log`);
  const output = openSync(logFile, 'a');
  try {
    const { cwd, env, ipc = false } = options;
    const child = ipc
      ? spawn(command, args, { cwd, env, stdio: ['ignore', output, output, 'ipc'], serialization: 'advanced' })
      : spawn(command, args, { cwd, env, stdio: ['ignore', output, output] });
    return { name, child, logFile };
  } finally {
    closeSync(output);
  }
}

/** True once the process has exited (or died of a signal). */
export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Waits until `url` answers 200; fails early, with the end of its log, when the process exits first. */
export async function waitForReady(started: StartedProcess, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (hasExited(started.child)) {
      throw new Error(`${started.name} exited while starting; the end of ${started.logFile}:\n${await tailOf(started.logFile, 20)}`);
    }
    const status = await fetch(url, { signal: AbortSignal.timeout(2000) }).then(async (response) => {
      await response.body?.cancel();
      return response.status;
    }, () => undefined);
    if (status === 200) return;
    if (Date.now() > deadline) {
      throw new Error(`${started.name} was not ready at ${url} within ${Math.round(timeoutMs / 1000)} s (last: ${status ?? 'no answer'}); the end of ${started.logFile}:\n${await tailOf(started.logFile, 20)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** SIGTERM, then SIGKILL if it is still running after the grace period (a service finishes in-flight work first). */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => { child.kill('SIGKILL'); }, stopGraceMs);
  await exited;
  clearTimeout(timer);
}

/** A port nothing listens on at 127.0.0.1 now and not handed out before (in `taken`). */
export async function freeLoopbackPort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => { resolve(typeof address === 'object' && address !== null ? address.port : 0); });
      });
    });
    if (port > 0 && !taken.has(port)) {
      taken.add(port);
      return port;
    }
  }
}
