import { fork, type ChildProcess } from 'node:child_process';
import type { LoadPlan, LoadResult } from './load-plan.ts';

/** Set in the load generator's environment, so that a harness started there by mistake refuses to fork another. */
export const loadGeneratorEnvironmentFlag = 'ORDERSTREAM_BENCH_LOAD_GENERATOR';

/** The load generator's process, seen from the harness: send it a plan, get its measurements. */
export class LoadGeneratorProcess {
  readonly #child: ChildProcess;
  readonly #waiting = new Map<number, { resolve: (result: LoadResult) => void; reject: (error: Error) => void }>();
  #nextId = 0;

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on('message', (message: { id: number; result?: LoadResult; error?: string }) => {
      const waiting = this.#waiting.get(message.id);
      if (waiting === undefined) return;
      this.#waiting.delete(message.id);
      if (message.result === undefined) waiting.reject(new Error(`the load generator failed: ${message.error ?? 'no result'}`));
      else waiting.resolve(message.result);
    });
    child.on('exit', (code, signal) => {
      for (const waiting of this.#waiting.values()) waiting.reject(new Error(`the load generator exited (${signal ?? String(code)})`));
      this.#waiting.clear();
    });
  }

  /** Starts the load generator (a Node process running `load-generator.ts`). */
  static start(): LoadGeneratorProcess {
    if (process.env[loadGeneratorEnvironmentFlag] !== undefined) throw new Error('the load generator cannot start another load generator');
    const child = fork(new URL('./load-generator.ts', import.meta.url), ['--orderstream-load-generator'], {
      // None of the parent's flags: `-e`, `--test` and the like would make the child run the parent's program again.
      execArgv: [],
      env: { ...process.env, [loadGeneratorEnvironmentFlag]: '1' },
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new LoadGeneratorProcess(child);
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Sends the plan's load and answers what was measured. */
  run(plan: LoadPlan): Promise<LoadResult> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#child.send({ id, plan });
    });
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => { resolve(); }));
    this.#child.disconnect();
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
