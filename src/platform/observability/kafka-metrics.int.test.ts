import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, test } from 'node:test';
import { runReadinessChecks } from '../http/readiness.ts';
import { createLogger } from '../logging/logger.ts';
import { createEnvelope, topicOf } from '../messaging/envelope.ts';
import { KafkaTransport } from '../messaging/kafka-transport.ts';
import { sampleValue } from '../testing/prometheus-text.ts';
import { requireService } from '../testing/services.ts';
import { createMetrics } from './metrics.ts';

const kafka = requireService('Kafka', 'KAFKA_BROKERS');
const brokers = (kafka.url ?? '').split(',').filter((broker) => broker !== '');
const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const run = randomBytes(4).toString('hex');
const opened: KafkaTransport[] = [];

after(async () => { await Promise.all(opened.map((transport) => transport.close())); });

async function eventually(description: string, condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${description}`);
    await sleep(100);
  }
}

describe('Kafka in the metrics and the probes', { skip: kafka.skip }, () => {
  test('when a consumer falls behind and then catches up, then orderstream_kafka_consumer_lag shows the backlog per topic and then 0', async () => {
    const transport = new KafkaTransport({ brokers, clientId: `metrics-${run}`, partitions: 2, logger, closeTimeoutMs: 2_000 });
    opened.push(transport);
    const type = `km${run}.thing-happened`;
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => { release = resolve; });
    transport.subscribe({ consumer: `lagging-${run}`, types: [type], deliver: () => held });
    await transport.ready();
    const metrics = createMetrics({ processMetrics: false, scrapeTimeoutMs: 10_000 });
    metrics.readFrom({ consumerLag: () => transport.lag() });
    const envelopes = Array.from({ length: 5 }, (_, index) => createEnvelope({ type, version: 1, key: 'one-key', payload: { index } }));
    await transport.publish(envelopes.map((envelope) => ({ topic: topicOf(envelope), envelope })));

    const labels = { consumer: `lagging-${run}`, topic: topicOf(envelopes[0]!) };
    const lag = async () => sampleValue((await metrics.exposition()).body, 'orderstream_kafka_consumer_lag', labels);
    await eventually('the lag shows the five held messages', async () => await lag() === 5);
    release();
    await eventually('the lag drops to 0 once they are consumed', async () => await lag() === 0);
  });

  test('when the brokers answer, then the transport is reachable; when none listens, then it is not, within the probe time', async () => {
    const reachable = new KafkaTransport({ brokers, clientId: `probe-${run}`, partitions: 1, logger });
    const unreachable = new KafkaTransport({ brokers: ['127.0.0.1:1'], clientId: `probe-down-${run}`, partitions: 1, logger });
    opened.push(reachable, unreachable);
    const report = await runReadinessChecks([
      { name: 'kafka', check: () => reachable.isReachable() },
      { name: 'kafka-down', check: () => unreachable.isReachable() },
    ], { timeoutMs: 5000 });
    assert.equal(report.checks.kafka?.status, 'up');
    assert.notEqual(report.checks['kafka-down']?.status, 'up');
  });
});
