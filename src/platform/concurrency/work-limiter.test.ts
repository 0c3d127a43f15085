import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { OverloadedError } from './overloaded.ts';
import { WorkLimiter } from './work-limiter.ts';

/** A task the test finishes by hand, recording that it started. */
function gatedTask<T>(value: T) {
  let finish!: () => void;
  let fail!: (error: Error) => void;
  const gate = new Promise<void>((resolve, reject) => { finish = resolve; fail = reject; });
  const task = {
    started: false,
    run: async () => {
      task.started = true;
      await gate;
      return value;
    },
    finish: () => { finish(); },
    fail: (error: Error) => { fail(error); },
  };
  return task;
}

/** Lets promise callbacks (a hand-over, an awaited task) run. */
const settle = () => sleep(0);

describe('WorkLimiter', () => {
  test('when more tasks arrive than its concurrency, then only that many run at once and the others start in arrival order', async () => {
    const limiter = new WorkLimiter({ resource: 'rendering', concurrency: 2, maxQueued: 10, maxWaitMs: Infinity });
    const tasks = [1, 2, 3, 4, 5].map((value) => gatedTask(value));
    const results = tasks.map((task) => limiter.run(task.run));
    await settle();
    assert.deepEqual(tasks.map((task) => task.started), [true, true, false, false, false]);
    assert.deepEqual(limiter.stats(), { resource: 'rendering', concurrency: 2, running: 2, queued: 3, refusedTotal: 0 });

    tasks[1]?.finish();
    await settle();
    assert.deepEqual(tasks.map((task) => task.started), [true, true, true, false, false]);
    tasks[0]?.finish();
    await settle();
    assert.deepEqual(tasks.map((task) => task.started), [true, true, true, true, false]);
    assert.deepEqual(limiter.stats(), { resource: 'rendering', concurrency: 2, running: 2, queued: 1, refusedTotal: 0 });

    for (const task of tasks) task.finish();
    assert.deepEqual(await Promise.all(results), [1, 2, 3, 4, 5]);
    assert.deepEqual(limiter.stats(), { resource: 'rendering', concurrency: 2, running: 0, queued: 0, refusedTotal: 0 });
  });

  test('when the queue is full, then the next task is refused at once with OverloadedError and never runs', async () => {
    const limiter = new WorkLimiter({ resource: 'password hashing', concurrency: 1, maxQueued: 1, maxWaitMs: Infinity, retryAfterSeconds: 3 });
    const running = gatedTask('running');
    const waiting = gatedTask('waiting');
    const refused = gatedTask('refused');
    const first = limiter.run(running.run);
    const second = limiter.run(waiting.run);

    await assert.rejects(limiter.run(refused.run), (error: unknown) => {
      assert.ok(error instanceof OverloadedError);
      assert.equal(error.resource, 'password hashing');
      assert.equal(error.retryAfterSeconds, 3);
      assert.match(error.message, /password hashing is at capacity: 1 tasks are already waiting/);
      return true;
    });
    assert.deepEqual(limiter.stats(), { resource: 'password hashing', concurrency: 1, running: 1, queued: 1, refusedTotal: 1 });

    running.finish();
    waiting.finish();
    assert.deepEqual(await Promise.all([first, second]), ['running', 'waiting']);
    assert.equal(refused.started, false);
  });

  test('when nothing may wait, then a task runs only if a slot is free', async () => {
    const limiter = new WorkLimiter({ resource: 'rendering', concurrency: 1, maxQueued: 0, maxWaitMs: Infinity });
    const running = gatedTask('running');
    const first = limiter.run(running.run);

    await assert.rejects(limiter.run(() => 'refused'), OverloadedError);
    running.finish();
    assert.equal(await first, 'running');
    assert.equal(await limiter.run(() => 'after'), 'after');
    assert.equal(limiter.stats().refusedTotal, 1);
  });

  test('when a task waits longer than maxWaitMs, then it is refused, leaves the queue and never runs, while later ones still get their turn', async () => {
    const limiter = new WorkLimiter({ resource: 'password hashing', concurrency: 1, maxQueued: 5, maxWaitMs: 40 });
    const running = gatedTask('running');
    const tooLate = gatedTask('too late');
    const first = limiter.run(running.run);
    const startedWaiting = performance.now();

    await assert.rejects(limiter.run(tooLate.run), (error: unknown) => error instanceof OverloadedError && error.message.includes('within 40 ms'));
    assert.ok(performance.now() - startedWaiting >= 35, 'refused only after the wait bound');
    assert.deepEqual(limiter.stats(), { resource: 'password hashing', concurrency: 1, running: 1, queued: 0, refusedTotal: 1 });

    const later = gatedTask('later');
    const third = limiter.run(later.run);
    running.finish();
    await settle();
    assert.equal(later.started, true);
    later.finish();
    assert.deepEqual(await Promise.all([first, third]), ['running', 'later']);
    assert.equal(tooLate.started, false);
  });

  test('when a waiter gets its slot in time, then its wait bound no longer applies', async () => {
    const limiter = new WorkLimiter({ resource: 'rendering', concurrency: 1, maxQueued: 1, maxWaitMs: 30 });
    const running = gatedTask('running');
    const slow = gatedTask('slow');
    const first = limiter.run(running.run);
    const second = limiter.run(slow.run);
    running.finish();
    await settle();
    assert.equal(slow.started, true);

    await sleep(60);
    slow.finish();
    assert.deepEqual(await Promise.all([first, second]), ['running', 'slow']);
    assert.equal(limiter.stats().refusedTotal, 0);
  });

  test('when a task fails, then its error reaches the caller and its slot goes to the next task', async () => {
    const limiter = new WorkLimiter({ resource: 'rendering', concurrency: 1, maxQueued: 1, maxWaitMs: Infinity });
    const failing = gatedTask('never');
    const next = gatedTask('next');
    const first = limiter.run(failing.run);
    const second = limiter.run(next.run);

    failing.fail(new Error('the font is missing'));
    await assert.rejects(first, /the font is missing/);
    await settle();
    assert.equal(next.started, true);
    next.finish();
    assert.equal(await second, 'next');
    await assert.rejects(limiter.run(() => { throw new Error('thrown at once'); }), /thrown at once/);
    assert.deepEqual(limiter.stats(), { resource: 'rendering', concurrency: 1, running: 0, queued: 0, refusedTotal: 0 });
  });

  test('when a slot taken with acquire is released twice, then only one slot is freed', async () => {
    const limiter = new WorkLimiter({ resource: 'rendering', concurrency: 1, maxQueued: 2, maxWaitMs: Infinity });
    const release = await limiter.acquire();
    const waiting = [gatedTask('a'), gatedTask('b')];
    const results = waiting.map((task) => limiter.run(task.run));

    release();
    release();
    await settle();
    assert.deepEqual(waiting.map((task) => task.started), [true, false]);
    assert.deepEqual(limiter.stats(), { resource: 'rendering', concurrency: 1, running: 1, queued: 1, refusedTotal: 0 });
    for (const task of waiting) task.finish();
    assert.deepEqual(await Promise.all(results), ['a', 'b']);
  });

  test('when its limits make no sense, then the limiter refuses to be made', () => {
    const valid = { resource: 'rendering', concurrency: 1, maxQueued: 1, maxWaitMs: 100 };
    for (const limits of [{ concurrency: 0 }, { concurrency: 1.5 }, { maxQueued: -1 }, { maxWaitMs: 0 }, { maxWaitMs: 2 ** 31 }, { maxWaitMs: Number.NaN }]) {
      assert.throws(() => new WorkLimiter({ ...valid, ...limits }), RangeError, JSON.stringify(limits));
    }
    assert.doesNotThrow(() => new WorkLimiter({ ...valid, maxQueued: Infinity, maxWaitMs: Infinity }));
  });
});
