import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { memoryLogger } from '../platform/testing/memory-logger.ts';
import { takeSignals, type ProcessControl } from './lifecycle.ts';

/** A process whose signals the test sends and whose exits it records. */
function fakeProcess(): ProcessControl & { send(signal: NodeJS.Signals): void; exits: number[] } {
  const signals = new EventEmitter();
  const fake = {
    exits: [] as number[],
    exitCode: undefined as ProcessControl['exitCode'],
    on(signal: 'SIGINT' | 'SIGTERM', listener: (signal: NodeJS.Signals) => void) { return signals.on(signal, listener); },
    exit(code: number) { fake.exits.push(code); },
    send(signal: NodeJS.Signals) { signals.emit(signal, signal); },
  };
  return fake;
}

const messagesOf = (lines: Record<string, unknown>[]) => lines.map((line) => line.msg);

describe('the lifecycle of a long-running command', () => {
  test('when a signal comes after it says how to stop, then it stops in order, logs "stopped" and leaves the exit code alone', async () => {
    const { logger, lines } = memoryLogger();
    const control = fakeProcess();
    const lifecycle = takeSignals({ logger, shutdownTimeoutMs: 10_000, process: control });
    let stopped = 0;
    await lifecycle.stopWith(() => { stopped += 1; return Promise.resolve(); });

    control.send('SIGTERM');
    await sleep(10);

    assert.equal(stopped, 1);
    assert.deepEqual(messagesOf(lines()), ['shutting down', 'stopped']);
    assert.equal(lines()[0]?.signal, 'SIGTERM');
    assert.deepEqual(control.exits, []);
    assert.equal(control.exitCode, undefined);
  });

  test('when a signal comes while starting, then nothing stops until it says how, and stopWith() resolves once stopped', async () => {
    const { logger, lines } = memoryLogger();
    const control = fakeProcess();
    const lifecycle = takeSignals({ logger, shutdownTimeoutMs: 10_000, process: control });

    control.send('SIGINT');
    assert.deepEqual(messagesOf(lines()), ['stopping as soon as started']);
    let stopped = false;
    await lifecycle.stopWith(async () => { await sleep(5); stopped = true; });

    assert.ok(stopped);
    assert.deepEqual(messagesOf(lines()), ['stopping as soon as started', 'shutting down', 'stopped']);
    assert.deepEqual(control.exits, []);
  });

  test('when a second signal comes, while starting or while stopping, then it exits 1 at once', async () => {
    const { logger, lines } = memoryLogger();
    const starting = fakeProcess();
    takeSignals({ logger, shutdownTimeoutMs: 10_000, process: starting });
    starting.send('SIGINT');
    starting.send('SIGINT');
    assert.deepEqual(starting.exits, [1]);

    const stopping = fakeProcess();
    const lifecycle = takeSignals({ logger, shutdownTimeoutMs: 10_000, process: stopping });
    await lifecycle.stopWith(() => new Promise(() => undefined));
    stopping.send('SIGTERM');
    stopping.send('SIGTERM');
    assert.deepEqual(stopping.exits, [1]);
    assert.equal(messagesOf(lines()).filter((message) => message === 'second signal: exiting at once').length, 2);
  });

  test('when stopping takes longer than the time limit, then it says so and exits 1', async () => {
    const { logger, lines } = memoryLogger();
    const control = fakeProcess();
    const lifecycle = takeSignals({ logger, shutdownTimeoutMs: 20, process: control });
    await lifecycle.stopWith(() => new Promise(() => undefined));

    control.send('SIGTERM');
    await sleep(60);

    assert.deepEqual(control.exits, [1]);
    assert.ok(lines().some((line) => line.msg === 'shutdown took too long; exiting' && line.timeoutMs === 20));
  });

  test('when stopping fails, then the error is logged and the exit code is 1', async () => {
    const { logger, lines } = memoryLogger();
    const control = fakeProcess();
    const lifecycle = takeSignals({ logger, shutdownTimeoutMs: 10_000, process: control });
    await lifecycle.stopWith(() => Promise.reject(new Error('pool would not close')));

    control.send('SIGINT');
    await sleep(10);

    assert.equal(control.exitCode, 1);
    assert.deepEqual(control.exits, []);
    assert.deepEqual(messagesOf(lines()), ['shutting down', 'error while shutting down']);
  });
});
