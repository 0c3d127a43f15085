import type { Logger } from '../logging/logger.ts';
import { WakeSignal } from '../messaging/wake-signal.ts';

/** Work a module runs in the background (workers, sweepers, timeouts), started and stopped by the composition root. */
export interface BackgroundTask {
  readonly name: string;
  start(): void;
  stop(): Promise<void>;
}

/**
 * Runs `step` again and again: at once while it reports work done (a positive count), otherwise
 * after `intervalMs` or an explicit `wake()`. A failing step is logged and retried after the
 * interval; it never stops the loop.
 */
export class BackgroundLoop implements BackgroundTask {
  readonly name: string;
  readonly #step: () => Promise<number>;
  readonly #intervalMs: number;
  readonly #logger: Logger;
  readonly #wake = new WakeSignal();
  #loop: Promise<void> | undefined;
  #stopping = false;

  constructor(options: { name: string; intervalMs: number; logger: Logger; step: () => Promise<number> }) {
    this.name = options.name;
    this.#step = options.step;
    this.#intervalMs = options.intervalMs;
    this.#logger = options.logger;
  }

  start(): void {
    this.#stopping = false;
    this.#loop ??= this.#run();
  }

  /** Makes a sleeping loop look for work now. */
  wake(): void {
    this.#wake.wake();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake.wake();
    await this.#loop;
    this.#loop = undefined;
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      try {
        if ((await this.#step()) > 0) continue;
      } catch (error) {
        this.#logger.error({ err: error, task: this.name }, 'background task failed; trying again later');
      }
      await this.#wake.wait(this.#intervalMs);
    }
  }
}
