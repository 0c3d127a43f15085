import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** What the sampler reads of a process's `/proc/<pid>/stat`. */
export interface ProcStat { cpuTicks: number; childrenTicks: number; parentPid: number }

/** The unit of the CPU times in `/proc/<pid>/stat`. */
export const ticksPerSecond = clockTicks();

/** Every process's stat by pid, as `processTable` read it. */
export type ProcessTable = ReadonlyMap<number, ProcStat>;

/** Every process's stat, read once for all the watched trees of one sample. */
export function processTable(): ProcessTable {
  const table = new Map<number, ProcStat>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return table;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat !== undefined) table.set(Number(entry), stat);
  }
  return table;
}

/** `pid` and its direct children (a postmaster's backends, nginx's workers), when it is alive. */
export function treeOf(pid: number, table: ProcessTable): number[] {
  if (!table.has(pid)) return [];
  return [pid, ...[...table].filter(([, stat]) => stat.parentPid === pid).map(([child]) => child)];
}

/** The postmaster of the server a connection is on: the parent of that connection's backend process. */
export function postmasterOf(backendPid: number): number | undefined {
  const parent = readStat(backendPid)?.parentPid;
  return parent === undefined || parent <= 1 ? undefined : parent;
}

/** `backend`, `checkpointer`, `walwriter`, ... from the title PostgreSQL gives each process. */
export function processKind(pid: number, postmasterPid: number | undefined): string {
  if (pid === postmasterPid) return 'postmaster';
  let title: string;
  try {
    title = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return 'unknown';
  }
  const name = title.replace(/^postgres:\s*/, '');
  if (/\d+\.\d+\.\d+\.\d+\(\d+\)|\[local\]/.test(name)) return 'backend';
  return name.replace(/\s+\d+$/, '').trim() || 'unknown';
}

/** What `/proc/<pid>/stat` says of `pid`; undefined when it is gone. */
export function readStat(pid: number): ProcStat | undefined {
  let line: string;
  try {
    line = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Fields after the parenthesised command name, from field 3 (state) on: ppid is [1], utime [11], stime [12], cutime [13], cstime [14].
  const fields = line.slice(line.lastIndexOf(')') + 2).split(' ').map(Number);
  const at = (index: number) => fields[index] ?? 0;
  return { parentPid: at(1), cpuTicks: at(11) + at(12), childrenTicks: at(13) + at(14) };
}

/** The resident memory of `pid`, and the shared part of it, from `/proc/<pid>/status`; undefined when it is gone. */
export function readRssBytes(pid: number): { total: number; shared: number } | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kilobytes = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { total: kilobytes('VmRSS'), shared: kilobytes('RssShmem') };
}

function clockTicks(): number {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
}
