import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createEnvelope } from './envelope.ts';
import { InProcessTransport } from './in-process-transport.ts';

const message = (key: string, n: number) => {
  const envelope = createEnvelope({ type: 'test.happened', version: 1, key, payload: { n } });
  return { topic: 'orderstream.test.v1', envelope };
};

describe('InProcessTransport', () => {
  test('when messages share a key, then they are delivered one after another in publish order', async () => {
    const transport = new InProcessTransport({ concurrency: 4 });
    const seen: number[] = [];
    let inFlight = 0;
    transport.subscribe({
      consumer: 'recorder', types: ['test.happened'],
      deliver: async (envelope) => {
        inFlight += 1;
        assert.equal(inFlight, 1, 'two messages of one key were in flight at once');
        await new Promise((resolve) => setTimeout(resolve, 2));
        seen.push((envelope.payload as { n: number }).n);
        inFlight -= 1;
      },
    });
    await transport.publish([1, 2, 3, 4, 5].map((n) => message('order-1', n)));
    assert.deepEqual(seen, [1, 2, 3, 4, 5]);
  });

  test('when messages have different keys, then up to the concurrency limit are delivered at once, and publish waits for all', async () => {
    const transport = new InProcessTransport({ concurrency: 3 });
    let inFlight = 0;
    let peak = 0;
    let delivered = 0;
    transport.subscribe({
      consumer: 'recorder', types: ['test.happened'],
      deliver: async () => {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 10));
        inFlight -= 1;
        delivered += 1;
      },
    });
    await transport.publish(Array.from({ length: 12 }, (_, n) => message(`order-${n}`, n)));
    assert.equal(delivered, 12);
    assert.equal(peak, 3);
  });

  test('when a consumer subscribes to other types, then it receives none of these', async () => {
    const transport = new InProcessTransport();
    let calls = 0;
    transport.subscribe({ consumer: 'other', types: ['other.thing'], deliver: () => { calls += 1; return Promise.resolve(); } });
    await transport.publish([message('k', 1)]);
    assert.equal(calls, 0);
  });

  test('when a consumer takes batches, then publishes in flight at once reach it in publish order and a slow consumer holds up only itself', async () => {
    const transport = new InProcessTransport();
    const slowBatches: number[][] = [];
    const fast: number[] = [];
    let releaseSlow!: () => void;
    const slowMayFinish = new Promise<void>((resolve) => { releaseSlow = resolve; });
    transport.subscribe({
      consumer: 'slow', types: ['test.happened'],
      deliver: () => Promise.reject(new Error('takes batches')),
      deliverBatch: async (envelopes) => {
        slowBatches.push(envelopes.map((envelope) => (envelope.payload as { n: number }).n));
        await slowMayFinish;
      },
    });
    transport.subscribe({
      consumer: 'fast', types: ['test.happened'],
      deliver: () => Promise.reject(new Error('takes batches')),
      deliverBatch: (envelopes) => { fast.push(...envelopes.map((envelope) => (envelope.payload as { n: number }).n)); return Promise.resolve(); },
    });
    const first = transport.publish([1, 2].map((n) => message('order-1', n)));
    const second = transport.publish([3, 4].map((n) => message('order-1', n)));
    const third = transport.publish([5].map((n) => message('order-1', n)));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(fast, [1, 2, 3, 4, 5], 'the fast consumer took every publish while the slow one was busy');
    releaseSlow();
    await Promise.all([first, second, third]);
    assert.deepEqual(slowBatches, [[1, 2], [3, 4, 5]], 'what queued behind a busy batch is taken as one batch, in order');
  });

  test('when a batch keeps failing past the retry time, then it and what queued behind it fail together, and the next publish delivers them in order', async () => {
    const transport = new InProcessTransport({ batchRetryMs: 120 });
    let failing = true;
    const delivered: number[] = [];
    let attempts = 0;
    transport.subscribe({
      consumer: 'overloaded', types: ['test.happened'],
      deliver: () => Promise.reject(new Error('takes batches')),
      deliverBatch: async (envelopes) => {
        attempts += 1;
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (failing) throw new Error('pool full');
        delivered.push(...envelopes.map((envelope) => (envelope.payload as { n: number }).n));
      },
    });
    const first = transport.publish([message('order-1', 1)]);
    const second = transport.publish([message('order-1', 2)]);
    await assert.rejects(first, /pool full/);
    await assert.rejects(second, /pool full/);
    assert.ok(attempts > 1, 'the batch was tried again before giving up');
    failing = false;
    await transport.publish([message('order-1', 1), message('order-1', 2)]);
    assert.deepEqual(delivered, [1, 2]);
  });
});
