import type { Logger } from '../platform/logging/logger.ts';

/** The parts of `process` a lifecycle uses (tests pass their own). */
export interface ProcessControl {
  on(signal: 'SIGINT' | 'SIGTERM', listener: (signal: NodeJS.Signals) => void): unknown;
  exit(code: number): void;
  exitCode?: number | string | null | undefined;
}

/** A long-running command between taking the signals and being stopped by one. */
export interface Lifecycle {
  /**
   * Hands over how to stop: a signal from now on runs `stop`; one that came before (while starting)
   * runs it at once, and the returned promise resolves when stopped.
   */
  stopWith(stop: () => Promise<void>): Promise<void>;
}

/**
 * Takes SIGINT and SIGTERM for a long-running command (`start`, whatever its role): the first one
 * stops it in order within `shutdownTimeoutMs`, else it exits 1; a second one exits 1 at once; a
 * stop that fails leaves exit code 1. A signal that comes before the command says how to stop is
 * obeyed as soon as it does, because the embedded database runs in its own process group: a Ctrl-C
 * that ended Node while it starts would leave it running.
 */
export function takeSignals(options: { logger: Logger; shutdownTimeoutMs: number; process?: ProcessControl }): Lifecycle {
  const { logger, shutdownTimeoutMs } = options;
  const control: ProcessControl = options.process ?? process;
  let stop: (() => Promise<void>) | undefined;
  let signalWhileStarting: NodeJS.Signals | undefined;
  let stopping = false;

  const shutDown = async (signal: NodeJS.Signals, stopNow: () => Promise<void>): Promise<void> => {
    stopping = true;
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error({ timeoutMs: shutdownTimeoutMs }, 'shutdown took too long; exiting');
      control.exit(1);
    }, shutdownTimeoutMs).unref();
    try {
      await stopNow();
      logger.info('stopped');
    } catch (error) {
      logger.error({ err: error }, 'error while shutting down');
      control.exitCode = 1;
    }
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping || (stop === undefined && signalWhileStarting !== undefined)) {
      logger.warn({ signal }, 'second signal: exiting at once');
      control.exit(1);
      return;
    }
    if (stop === undefined) {
      signalWhileStarting = signal;
      logger.info({ signal }, 'stopping as soon as started');
      return;
    }
    void shutDown(signal, stop);
  };
  control.on('SIGINT', onSignal);
  control.on('SIGTERM', onSignal);

  return {
    async stopWith(stopNow) {
      stop = stopNow;
      if (signalWhileStarting !== undefined) await shutDown(signalWhileStarting, stopNow);
    },
  };
}
