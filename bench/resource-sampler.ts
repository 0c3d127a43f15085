import { processKind, processTable, readRssBytes, readStat, ticksPerSecond, treeOf, type ProcessTable } from './process-table.ts';
import { ProcessTreeWatch, type WatchedProcess } from './process-tree-watch.ts';

export { postmasterOf } from './process-table.ts';
export type { WatchedProcess } from './process-tree-watch.ts';

/** CPU time and peak memory of one process (or group of processes) over a measured window. */
export interface ProcessUsage {
  cpuSeconds: number;
  peakRssMb: number;
}

/** Usage of every process taking part in a benchmark run, over one scenario. */
export interface ResourceUsage {
  /**
   * OrderStream: in the single shape, its one process; in the services shape, the sum of its
   * processes (gateways and services), RSS summed per sample. For a ceiling the harness runs
   * itself (the HTTP ceiling's bare server, the COPY ceilings), the harness's own process.
   */
  app: ProcessUsage;
  /**
   * The services shape's processes one by one, by name: each gateway and service (the parts of
   * `app`), nginx with its workers, the Kafka broker. Null in the single shape (its one process is
   * `app`) and for the harness's own ceilings.
   */
  processes: Record<string, ProcessUsage> | null;
  /** The process sending the HTTP load. */
  loadGenerator: ProcessUsage | null;
  /**
   * The PostgreSQL server: its postmaster and every child process. Peak RSS counts each process's
   * private and file-backed memory plus the shared buffers once (they appear in every process's RSS).
   */
  postgres: (ProcessUsage & { processes: number; cpuSecondsByKind: Record<string, number> }) | null;
}

/**
 * Samples the benchmark's processes while a scenario runs: OrderStream's and the others from
 * `/proc/<pid>/stat` and `status`, or, when no OrderStream process is given (a ceiling the harness
 * runs itself), this process with `process.cpuUsage`/`memoryUsage` as `app`.
 * PostgreSQL's children are found by their parent pid (the postmaster), so backends that come and
 * go are counted; the CPU of children that exited during the window is read from the postmaster's
 * reaped-children counters.
 */
export class ResourceSampler {
  readonly #postmasterPid: number | undefined;
  readonly #loadGeneratorPid: number | undefined;
  readonly #intervalMs: number;
  /** OrderStream's processes; empty when `app` is this process. */
  readonly #appProcesses: ProcessTreeWatch[];
  readonly #otherProcesses: ProcessTreeWatch[];
  #timer: NodeJS.Timeout | undefined;
  #appStart = process.cpuUsage();
  #appPeakRss = 0;
  #loadStartTicks = 0;
  #loadPeakRss = 0;
  #postgresStart = new Map<number, { ticks: number; kind: string }>();
  #postmasterStartChildrenTicks = 0;
  #postgresPeakRss = 0;
  #postgresProcesses = 0;

  constructor(options: {
    postmasterPid?: number | undefined;
    loadGeneratorPid?: number | undefined;
    /** OrderStream's processes (the single shape's one, the services shape's several): `app` is their sum. Unset: `app` is this process. */
    appProcesses?: readonly WatchedProcess[];
    /** Other processes of the shape, reported one by one (nginx, the Kafka broker). */
    otherProcesses?: readonly WatchedProcess[];
    intervalMs?: number;
  }) {
    this.#postmasterPid = options.postmasterPid;
    this.#loadGeneratorPid = options.loadGeneratorPid;
    this.#appProcesses = (options.appProcesses ?? []).map((watched) => new ProcessTreeWatch(watched));
    this.#otherProcesses = (options.otherProcesses ?? []).map((watched) => new ProcessTreeWatch(watched));
    this.#intervalMs = options.intervalMs ?? 500;
  }

  start(): void {
    this.#appStart = process.cpuUsage();
    this.#appPeakRss = this.#appProcesses.length === 0 ? process.memoryUsage.rss() : 0;
    const table = this.#processTable();
    for (const watch of [...this.#appProcesses, ...this.#otherProcesses]) watch.start(table);
    if (this.#loadGeneratorPid !== undefined) {
      this.#loadStartTicks = readStat(this.#loadGeneratorPid)?.cpuTicks ?? 0;
      this.#loadPeakRss = readRssBytes(this.#loadGeneratorPid)?.total ?? 0;
    }
    if (this.#postmasterPid !== undefined) {
      this.#postgresStart = new Map(treeOf(this.#postmasterPid, table).map((pid) => [pid, { ticks: table.get(pid)?.cpuTicks ?? 0, kind: processKind(pid, this.#postmasterPid) }]));
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
      processes: null,
      loadGenerator: null,
      postgres: null,
    };
    const table = this.#processTable();
    const appParts = this.#appProcesses.map((watch) => [watch.name, watch.stop(table)] as const);
    const others = this.#otherProcesses.map((watch) => [watch.name, watch.stop(table)] as const);
    if (appParts.length > 0) {
      usage.app = { cpuSeconds: round(appParts.reduce((sum, [, part]) => sum + part.cpuTicks, 0) / ticksPerSecond), peakRssMb: megabytes(this.#appPeakRss) };
    }
    // One OrderStream process alone (the single shape) is `app` already: a breakdown would repeat it.
    if (appParts.length > 1 || others.length > 0) {
      usage.processes = Object.fromEntries([...appParts, ...others].map(([name, part]) => [name, { cpuSeconds: round(part.cpuTicks / ticksPerSecond), peakRssMb: megabytes(part.peakRssBytes) }]));
    }
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
      for (const pid of treeOf(this.#postmasterPid, table)) {
        const stat = table.get(pid);
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

  /** Every process's stat, read once per look, when any process other than this one is watched. */
  #processTable(): ProcessTable {
    const watchesOthers = this.#postmasterPid !== undefined || this.#appProcesses.length > 0 || this.#otherProcesses.length > 0;
    return watchesOthers ? processTable() : new Map();
  }

  #sample(): void {
    const table = this.#processTable();
    if (this.#appProcesses.length > 0 || this.#otherProcesses.length > 0) {
      const appRss = this.#appProcesses.reduce((sum, watch) => sum + watch.sample(table), 0);
      for (const watch of this.#otherProcesses) watch.sample(table);
      if (this.#appProcesses.length > 0) this.#appPeakRss = Math.max(this.#appPeakRss, appRss);
    }
    if (this.#appProcesses.length === 0) this.#appPeakRss = Math.max(this.#appPeakRss, process.memoryUsage.rss());
    if (this.#loadGeneratorPid !== undefined) this.#loadPeakRss = Math.max(this.#loadPeakRss, readRssBytes(this.#loadGeneratorPid)?.total ?? 0);
    if (this.#postmasterPid !== undefined) {
      const pids = treeOf(this.#postmasterPid, table);
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

function megabytes(bytes: number): number {
  return Math.round(bytes / 1024 / 102.4) / 10;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
