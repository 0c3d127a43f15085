import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { open, readFile, rm, stat, writeFile } from 'node:fs/promises';

/**
 * Processes that outlive the command that started them (`orderstream services up`): started in a
 * session of their own with their output appended to a log file, remembered by a pid file, and
 * recognised later by a marker (a path) in their command line or environment, so that a pid the
 * system has since given to another program is never mistaken for one of ours — or signalled.
 */

/** Starts `command` detached (its own session and process group), output appended to `logFile`; returns its pid. */
export function startDetached(options: {
  command: string;
  args: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
  /** Called if it exits while the starting command still runs (to fail a wait early). */
  onExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
}): number {
  const log = openSync(options.logFile, 'a');
  try {
    const child = spawn(options.command, options.args, { cwd: options.cwd, env: options.env, detached: true, stdio: ['ignore', log, log] });
    if (child.pid === undefined) throw new Error(`could not start ${options.command}`);
    if (options.onExit !== undefined) child.once('exit', options.onExit);
    child.unref();
    return child.pid;
  } finally {
    closeSync(log);
  }
}

/** The pid in `file`, or undefined when there is none. */
export async function readPidFile(file: string): Promise<number | undefined> {
  try {
    const text = (await readFile(file, 'utf8')).trim();
    return /^[1-9][0-9]*$/.test(text) ? Number(text) : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export async function writePidFile(file: string, pid: number): Promise<void> {
  await writeFile(file, `${pid}\n`);
}

export async function removePidFile(file: string): Promise<void> {
  await rm(file, { force: true });
}

/**
 * True when `pid` is alive and is ours: its command line or environment contains `marker`. Where
 * /proc is missing (not Linux), only liveness is checked. A zombie (exited, not yet reaped) is not alive.
 */
export async function isOurProcess(pid: number, marker: string): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    // ESRCH: gone; EPERM: alive but another user's, so not ours either.
    return false;
  }
  let commandLine: string;
  try {
    commandLine = await readFile(`/proc/${pid}/cmdline`, 'latin1');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !(await procAvailable())) return true;
    return false;
  }
  if (commandLine === '') return false;
  if (commandLine.includes(marker)) return true;
  const environment = await readFile(`/proc/${pid}/environ`, 'latin1').catch(() => '');
  return environment.includes(marker);
}

let procMounted: boolean | undefined;
async function procAvailable(): Promise<boolean> {
  procMounted ??= await stat('/proc/self/cmdline').then(() => true, () => false);
  return procMounted;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    // The whole group: nginx's workers go with their master, even when the master is SIGKILLed.
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

async function exitedWithin(pid: number, marker: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!(await isOurProcess(pid, marker))) return true;
    await sleep(100);
  }
  return !(await isOurProcess(pid, marker));
}

/**
 * Stops the process group of `pid` when it is ours: SIGTERM (`graceSignal`), then SIGKILL after
 * `graceMs`. Resolves with how it ended; `not-running` when it was not (or no longer ours).
 */
export async function stopProcess(pid: number, marker: string, options: { graceMs: number; graceSignal?: NodeJS.Signals }): Promise<'stopped' | 'killed' | 'not-running' | 'still-running'> {
  if (!(await isOurProcess(pid, marker))) return 'not-running';
  signalGroup(pid, options.graceSignal ?? 'SIGTERM');
  if (await exitedWithin(pid, marker, options.graceMs)) {
    // Stragglers of the group (a worker its master left behind) go too.
    signalGroup(pid, 'SIGKILL');
    return 'stopped';
  }
  signalGroup(pid, 'SIGKILL');
  return (await exitedWithin(pid, marker, 5000)) ? 'killed' : 'still-running';
}

/** The size of `file` now (0 when missing): where to start reading what a process logs next. */
export async function logOffset(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

/** The text `file` holds from byte `offset` on. */
async function readFrom(file: string, offset: number): Promise<string> {
  const handle = await open(file, 'r').catch(() => undefined);
  if (handle === undefined) return '';
  try {
    const { size } = await handle.stat();
    if (size <= offset) return '';
    const buffer = Buffer.alloc(size - offset);
    await handle.read(buffer, 0, buffer.length, offset);
    return buffer.toString('utf8');
  } finally {
    await handle.close();
  }
}

/** The last `count` lines of `file` (from `offset` on), to show why a process did not start. */
export async function tailOf(file: string, count: number, offset = 0): Promise<string> {
  const lines = (await readFrom(file, offset)).split('\n').filter((line) => line.trim() !== '');
  return lines.slice(-count).join('\n');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
