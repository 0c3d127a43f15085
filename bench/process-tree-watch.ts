import { readRssBytes, treeOf, type ProcessTable } from './process-table.ts';

/** A process sampled apart (with its children, as nginx's workers), by a name for the report. */
export interface WatchedProcess {
  name: string;
  pid: number;
}

/**
 * CPU and peak RSS of one process and its living children (nginx's workers) over a window. A child
 * that exits within the window loses its CPU since the start: none of the watched processes
 * (Node.js processes, nginx's master, the Kafka JVM) replaces children as it works.
 */
export class ProcessTreeWatch {
  readonly name: string;
  readonly #pid: number;
  #startTicks = new Map<number, number>();
  #peakRssBytes = 0;

  constructor(watched: WatchedProcess) {
    this.name = watched.name;
    this.#pid = watched.pid;
  }

  start(table: ProcessTable): void {
    this.#startTicks = new Map(treeOf(this.#pid, table).map((pid) => [pid, table.get(pid)?.cpuTicks ?? 0]));
    this.#peakRssBytes = 0;
  }

  /**
   * The tree's RSS now, in bytes, remembered when it is the highest yet. A process the table missed
   * (its stat could not be read at that instant) is read directly, so a live process never counts 0.
   */
  sample(table: ProcessTable): number {
    const tree = treeOf(this.#pid, table);
    const rss = (tree.length === 0 ? [this.#pid] : tree).reduce((sum, pid) => sum + (readRssBytes(pid)?.total ?? 0), 0);
    this.#peakRssBytes = Math.max(this.#peakRssBytes, rss);
    return rss;
  }

  stop(table: ProcessTable): { cpuTicks: number; peakRssBytes: number } {
    this.sample(table);
    const cpuTicks = treeOf(this.#pid, table).reduce((sum, pid) => sum + Math.max(0, (table.get(pid)?.cpuTicks ?? 0) - (this.#startTicks.get(pid) ?? 0)), 0);
    return { cpuTicks, peakRssBytes: this.#peakRssBytes };
  }
}
