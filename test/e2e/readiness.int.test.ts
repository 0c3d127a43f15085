import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { InProcessTransport, type ConsumerLag, type MessageTransport } from '../../src/platform/messaging/index.ts';
import { sampleValue } from '../../src/platform/testing/prometheus-text.ts';
import { startFulfilment, type FulfilmentHarness } from './harness/fulfilment-harness.ts';

/** The in-process transport, dressed as a broker whose brokers hang and whose consumer is behind. */
class HungBrokerTransport extends InProcessTransport implements MessageTransport {
  isReachable(): Promise<boolean> {
    return new Promise(() => undefined);
  }

  lag(): Promise<readonly ConsumerLag[]> {
    return Promise.resolve([{ consumer: 'orders.saga', topic: 'orderstream.payments.v1', partition: 0, lag: 3 }]);
  }
}

let harness: FulfilmentHarness;

before(async () => {
  // Nothing listens on port 1: the rate-limit store is configured but down (it fails open).
  harness = await startFulfilment({ REDIS_URL: 'redis://127.0.0.1:1' }, { transport: new HungBrokerTransport(), registerWebhook: false });
});
after(async () => { await harness.close(); });

describe('readiness of the single process', () => {
  test('when Kafka and Redis are configured and down, then /readyz reports each, in time, and stays ready on the database', async () => {
    const startedAt = performance.now();
    const response = await harness.orderstream.app.inject({ method: 'GET', url: '/readyz' });
    assert.ok(performance.now() - startedAt < 5000, 'the hung broker did not hang the probe');
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json<{ status: string; checks: Record<string, { status: string; required: boolean }> }>();
    assert.equal(body.status, 'degraded');
    assert.deepEqual(Object.fromEntries(Object.entries(body.checks).map(([name, check]) => [name, [check.status, check.required]])), {
      database: ['up', true], redis: ['down', false], kafka: ['timeout', false],
    });
  });

  test('when the transport reports consumer lag, then the metrics export it', async () => {
    const { body } = await harness.orderstream.metrics.exposition();
    assert.equal(sampleValue(body, 'orderstream_kafka_consumer_lag', { consumer: 'orders.saga', topic: 'orderstream.payments.v1' }), 3);
  });
});
