import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** CPU time and peak memory of one process (or group of processes) over a measured window. */
export interface ProcessUsage {
  cpuSeconds: number;
  peakRssMb: number;
}

/** Usage of every process taking part in a benchmark run, over one scenario. */
export interface ResourceUsage {
  /** The Node.js process running OrderStream (and the harness around it). */
  app: ProcessUsage;
  /** The process sending the HTTP load. */
  loadGenerator: ProcessUsage | null;
  /**
   * The PostgreSQL server: its postmaster and every child process. Peak RSS counts each process's
   * private and file-backed memory plus the shared buffers once (they appear in every process's RSS).
   */
  postgres: (ProcessUsage & { processes: number; cpuSecondsByKind: Record<string, number> }) | null;
}

interface ProcStat { cpuTicks: number; childrenTicks: number; parentPid: number }

const ticksPerSecond = clockTicks();

/**
 * Samples the benchmark's processes while a scenario runs: the Node process with
 * `process.cpuUsage`/`memoryUsage`, other processes from `/proc/<pid>/stat` and `status`.
 * PostgreSQL's children are found by their parent pid (the postmaster), so backends that come and
 * go are counted; the CPU of children that exited during the window is read from the postmaster's
 * reaped-children counters.
 */
export class ResourceSampler {
  readonly #postmasterPid: number | undefined;
  readonly #loadGeneratorPid: number | undefined;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #appStart = process.cpuUsage();
  #appPeakRss = 0;
  #loadStartTicks = 0;
  #loadPeakRss = 0;
  #postgresStart = new Map<number, { ticks: number; kind: string }>();
  #postmasterStartChildrenTicks = 0;
  #postgresPeakRss = 0;
  #postgresProcesses = 0;

  constructor(options: { postmasterPid?: number | undefined; loadGeneratorPid?: number | undefined; intervalMs?: number }) {
    this.#postmasterPid = options.postmasterPid;
    this.#loadGeneratorPid = options.loadGeneratorPid;
    this.#intervalMs = options.intervalMs ?? 500;
  }

  start(): void {
    this.#appStart = process.cpuUsage();
    this.#appPeakRss = process.memoryUsage.rss();
    if (this.#loadGeneratorPid !== undefined) {
      this.#loadStartTicks = readStat(this.#loadGeneratorPid)?.cpuTicks ?? 0;
      this.#loadPeakRss = readRssBytes(this.#loadGeneratorPid)?.total ?? 0;
    }
    if (this.#postmasterPid !== undefined) {
      this.#postgresStart = new Map(postgresProcesses(this.#postmasterPid).map((pid) => [pid, { ticks: readStat(pid)?.cpuTicks ?? 0, kind: processKind(pid, this.#postmasterPid) }]));
      this.#postmasterStartChildrenTicks = readStat(this.#postmasterPid)?.childrenTicks ?? 0;
      this.#postgresPeakRss = 0;
    }
    this.#sample();
    this.#timer = setInterval(() => { this.#sample(); }, this.#intervalMs);
    this.#timer.unref();
  }

  stop(): ResourceUsage {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#sample();
    const app = process.cpuUsage(this.#appStart);
    const usage: ResourceUsage = {
      app: { cpuSeconds: round((app.user + app.system) / 1e6), peakRssMb: megabytes(this.#appPeakRss) },
      loadGenerator: null,
      postgres: null,
    };
    if (this.#loadGeneratorPid !== undefined) {
      const ticks = readStat(this.#loadGeneratorPid)?.cpuTicks ?? this.#loadStartTicks;
      usage.loadGenerator = { cpuSeconds: round((ticks - this.#loadStartTicks) / ticksPerSecond), peakRssMb: megabytes(this.#loadPeakRss) };
    }
    if (this.#postmasterPid !== undefined) {
      const byKind: Record<string, number> = {};
      let ticks = 0;
      // The postmaster's reaped-children counter holds the whole life of a child that exited in the
      // window; what it had used before the window began is not this scenario's.
      const reapedBefore = this.#postmasterStartChildrenTicks;
      let usedBeforeByExited = 0;
      const alive = new Set<number>();
      for (const pid of postgresProcesses(this.#postmasterPid)) {
        const stat = readStat(pid);
        if (stat === undefined) continue;
        alive.add(pid);
        const started = this.#postgresStart.get(pid);
        const used = stat.cpuTicks - (started?.ticks ?? 0);
        const kind = started?.kind ?? processKind(pid, this.#postmasterPid);
        byKind[kind] = (byKind[kind] ?? 0) + used;
        ticks += used;
      }
      for (const [pid, started] of this.#postgresStart) {
        if (!alive.has(pid)) usedBeforeByExited += started.ticks;
      }
      const reaped = Math.max(0, (readStat(this.#postmasterPid)?.childrenTicks ?? reapedBefore) - reapedBefore - usedBeforeByExited);
      if (reaped > 0) byKind['exited processes'] = reaped;
      ticks += reaped;
      usage.postgres = {
        cpuSeconds: round(ticks / ticksPerSecond),
        peakRssMb: megabytes(this.#postgresPeakRss),
        processes: this.#postgresProcesses,
        cpuSecondsByKind: Object.fromEntries(Object.entries(byKind).sort((left, right) => right[1] - left[1]).map(([kind, kindTicks]) => [kind, round(kindTicks / ticksPerSecond)])),
      };
    }
    return usage;
  }

  #sample(): void {
    this.#appPeakRss = Math.max(this.#appPeakRss, process.memoryUsage.rss());
    if (this.#loadGeneratorPid !== undefined) this.#loadPeakRss = Math.max(this.#loadPeakRss, readRssBytes(this.#loadGeneratorPid)?.total ?? 0);
    if (this.#postmasterPid !== undefined) {
      const pids = postgresProcesses(this.#postmasterPid);
      let privateBytes = 0;
      let sharedBytes = 0;
      for (const pid of pids) {
        const rss = readRssBytes(pid);
        if (rss === undefined) continue;
        privateBytes += rss.total - rss.shared;
        sharedBytes = Math.max(sharedBytes, rss.shared);
      }
      this.#postgresPeakRss = Math.max(this.#postgresPeakRss, privateBytes + sharedBytes);
      this.#postgresProcesses = Math.max(this.#postgresProcesses, pids.length);
    }
  }
}

/** The postmaster of the server a connection is on: the parent of that connection's backend process. */
export function postmasterOf(backendPid: number): number | undefined {
  const parent = readStat(backendPid)?.parentPid;
  return parent === undefined || parent <= 1 ? undefined : parent;
}

/** The postmaster and its children. */
function postgresProcesses(postmasterPid: number): number[] {
  const children: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (readStat(pid)?.parentPid === postmasterPid) children.push(pid);
  }
  return [postmasterPid, ...children];
}

/** `backend`, `checkpointer`, `walwriter`, ... from the title PostgreSQL gives each process. */
function processKind(pid: number, postmasterPid: number | undefined): string {
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

function readStat(pid: number): ProcStat | undefined {
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

function readRssBytes(pid: number): { total: number; shared: number } | undefined {
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

function megabytes(bytes: number): number {
  return Math.round(bytes / 1024 / 102.4) / 10;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
