import { readFileSync } from 'node:fs';
import { readdir, readFile, readlink, realpath, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../logging/logger.ts';

/**
 * A server killed without a clean shutdown leaves `postmaster.pid` behind, and a Node process killed
 * hard leaves its PostgreSQL child running, orphaned. The first is removed once the killed server's
 * own processes are gone; the second is shut down. A server whose parent is a live Node process
 * belongs to another OrderStream and is left alone. The pid in a stale lock may since have been
 * reused, even by another PostgreSQL, so only a postgres process working in this folder counts.
 */
export async function clearStaleLock(dataDir: string, postgresBinary: string, logger: Logger): Promise<void> {
  const lockFile = path.join(dataDir, 'postmaster.pid');
  let pid: number;
  try {
    pid = Number.parseInt((await readFile(lockFile, 'utf8')).split('\n')[0] ?? '', 10);
  } catch {
    return;
  }
  const servers = await serverProcessesIn(dataDir, postgresBinary);
  if (servers.includes(pid)) {
    const parentPid = await readParentPid(pid);
    const parentCommand = parentPid === undefined ? '' : await readFile(`/proc/${parentPid}/cmdline`, 'utf8').catch(() => '');
    if (parentPid !== undefined && parentPid !== 1 && parentCommand.includes('node')) {
      throw new Error(`The embedded database in ${dataDir} is in use by another process (pid ${parentPid}). Stop it first, or set EMBEDDED_POSTGRES_DIR to another folder.`);
    }
    logger.warn({ pid }, 'shutting down an orphaned embedded postgres left by a crashed run');
    process.kill(pid, 'SIGINT');
    await waitFor(() => !isAlive(pid), `An orphaned PostgreSQL (pid ${pid}) on ${dataDir} did not shut down.`);
  } else {
    logger.warn({ lockFile }, 'removing the lock of an embedded postgres that did not shut down cleanly');
  }
  // The processes of a server killed hard exit once they notice. PostgreSQL's own guard against
  // starting beside them reads the lock removed below, so wait for them here instead.
  let leftovers: number[] = [];
  await waitFor(async () => {
    leftovers = await serverProcessesIn(dataDir, postgresBinary);
    return leftovers.length === 0;
  }, () => `PostgreSQL processes (pids ${leftovers.join(', ')}) still use ${dataDir}; stop them first.`);
  await rm(lockFile, { force: true });
}

/** Live PostgreSQL processes working in `dataDir` (a server changes into its data folder, and its children inherit that). */
async function serverProcessesIn(dataDir: string, postgresBinary: string): Promise<number[]> {
  const folder = await realpath(dataDir);
  const binary = await realpath(postgresBinary);
  const pids = (await readdir('/proc').catch(() => [])).filter((entry) => /^\d+$/.test(entry));
  const found: number[] = [];
  for (const pid of pids) {
    const [cwd, exe] = await Promise.all([
      readlink(`/proc/${pid}/cwd`).catch(() => ''),
      readlink(`/proc/${pid}/exe`).catch(() => ''),
    ]);
    if (cwd === folder && exe === binary) found.push(Number(pid));
  }
  return found;
}

async function waitFor(condition: () => boolean | Promise<boolean>, failure: string | (() => string)): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(typeof failure === 'string' ? failure : failure());
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function readParentPid(pid: number): Promise<number | undefined> {
  const statLine = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // Fields after the parenthesised command name: state, ppid, ...
  const afterName = statLine.slice(statLine.lastIndexOf(')') + 2).split(' ');
  const parent = Number.parseInt(afterName[1] ?? '', 10);
  return Number.isInteger(parent) ? parent : undefined;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const statLine = readProcessStat(pid);
  return !['Z', 'X'].includes(statLine.slice(statLine.lastIndexOf(')') + 2, statLine.lastIndexOf(')') + 3));
}

function readProcessStat(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return '';
  }
}
