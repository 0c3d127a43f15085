import type { ChildProcess } from 'node:child_process';
import type { MemoryBreakdown } from './document-jobs.ts';
import type { CapturedUnit, StatementCount } from './statement-capture.ts';

/** What the harness asks of the preload inside OrderStream's process (bench/orderstream-probe-preload.ts). */
export type ProbeRequest =
  | { id: number; action: 'start-capture' | 'start-counting'; ignoredApplication: string }
  | { id: number; action: 'stop-capture' | 'read-count' | 'stop-counting' | 'start-memory' | 'stop-memory' };

/** The preload's answer to the request with the same `id`: what it asked for, or why it failed. */
export interface ProbeAnswer {
  id: number;
  units?: CapturedUnit[];
  count?: StatementCount;
  memory?: MemoryBreakdown;
  error?: string;
}

/** Statements being counted inside OrderStream's process. */
export interface StatementCounting {
  /** The counts since counting started. */
  read(): Promise<StatementCount>;
  /** Stops counting; resolves, without failing, when the process has already gone. */
  stop(): Promise<void>;
}

/** OrderStream's memory being watched from inside its process, as `process.memoryUsage()` splits it. */
export interface MemoryWatch {
  /** When the watch started. */
  atStart: MemoryBreakdown;
  /** Ends the watch (once; later calls answer the same) with the memory at its highest RSS. */
  stop(): Promise<MemoryBreakdown>;
}

/** The single shape's probe into OrderStream's process; the services shape has none (an order there spans several processes). */
export function probeOf(target: { shape: string; probe: OrderStreamProbe | undefined }): OrderStreamProbe {
  if (target.probe === undefined) throw new Error(`the ${target.shape} shape has no probe into OrderStream's process`);
  return target.probe;
}

/** A request the preload has not answered in this long means a process too busy or stuck to measure. */
const answerTimeoutMs = 30_000;

/**
 * The harness's side of the preload that runs inside the single shape's OrderStream process: what
 * only that process can see — the statements its `pg` clients send (recorded in full for one order,
 * or counted under load) and its V8 heap — asked for over the child's IPC channel.
 */
export class OrderStreamProbe {
  readonly #child: ChildProcess;
  readonly #waiting = new Map<number, { resolve: (answer: ProbeAnswer) => void; reject: (error: Error) => void }>();
  #nextId = 0;

  constructor(child: ChildProcess) {
    this.#child = child;
    child.on('message', (answer: ProbeAnswer) => {
      const waiting = this.#waiting.get(answer.id);
      if (waiting === undefined) return;
      this.#waiting.delete(answer.id);
      if (answer.error === undefined) waiting.resolve(answer);
      else waiting.reject(new Error(`OrderStream's process could not answer the probe: ${answer.error}`));
    });
    child.on('exit', (code, signal) => {
      for (const waiting of this.#waiting.values()) waiting.reject(new Error(`OrderStream's process exited (${signal ?? String(code)}) before answering the probe`));
      this.#waiting.clear();
    });
  }

  /** Starts recording every statement the process sends (see `StatementCapture`). */
  async startCapture(ignoredApplication: string): Promise<void> {
    await this.#ask({ id: this.#nextId++, action: 'start-capture', ignoredApplication });
  }

  /** Stops recording and answers what was recorded, in the order the units began. */
  async stopCapture(): Promise<CapturedUnit[]> {
    return (await this.#ask({ id: this.#nextId++, action: 'stop-capture' })).units ?? [];
  }

  /** Starts counting the statements the process sends (see `StatementCounter`). */
  async startCounting(ignoredApplication: string): Promise<StatementCounting> {
    await this.#ask({ id: this.#nextId++, action: 'start-counting', ignoredApplication });
    let stopping: Promise<void> | undefined;
    return {
      read: async () => {
        const { count } = await this.#ask({ id: this.#nextId++, action: 'read-count' });
        if (count === undefined) throw new Error('OrderStream\'s process answered no statement count');
        return count;
      },
      stop: () => (stopping ??= this.#ask({ id: this.#nextId++, action: 'stop-counting' }).then(() => undefined, () => undefined)),
    };
  }

  /** Starts watching the process's memory, sampled there every 250 ms (see `MemoryPeak`). */
  async watchMemory(): Promise<MemoryWatch> {
    const atStart = (await this.#ask({ id: this.#nextId++, action: 'start-memory' })).memory;
    if (atStart === undefined) throw new Error('OrderStream\'s process answered no memory figures');
    let stopping: Promise<MemoryBreakdown> | undefined;
    const stop = async () => {
      const atPeak = (await this.#ask({ id: this.#nextId++, action: 'stop-memory' })).memory;
      if (atPeak === undefined) throw new Error('OrderStream\'s process answered no memory figures');
      return atPeak;
    };
    return { atStart, stop: () => (stopping ??= stop()) };
  }

  #ask(request: ProbeRequest): Promise<ProbeAnswer> {
    if (!this.#child.connected || this.#child.exitCode !== null || this.#child.signalCode !== null) return Promise.reject(new Error(`OrderStream's process is gone: the probe cannot ${request.action}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(request.id);
        reject(new Error(`OrderStream's process did not answer the probe's ${request.action} within ${answerTimeoutMs / 1000} s`));
      }, answerTimeoutMs);
      const settle = <T>(then: (value: T) => void) => (value: T) => {
        clearTimeout(timer);
        then(value);
      };
      this.#waiting.set(request.id, { resolve: settle(resolve), reject: settle(reject) });
      this.#child.send(request, (error) => {
        if (error === null) return;
        this.#waiting.delete(request.id);
        clearTimeout(timer);
        reject(error);
      });
    });
  }
}
