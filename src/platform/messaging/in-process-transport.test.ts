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
});
