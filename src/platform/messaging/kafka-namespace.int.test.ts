import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Admin } from '@platformatic/kafka';
import { createLogger } from '../logging/logger.ts';
import { requireOwnKafkaBroker, startOwnKafkaBroker, type OwnKafkaBroker } from '../testing/kafka-broker.ts';
import { createEnvelope, topicOf } from './envelope.ts';
import { deleteKafkaNamespace, kafkaNamespacePrefix } from './kafka-namespace.ts';
import { KafkaTransport } from './kafka-transport.ts';

/**
 * Deleting one namespace's topics and groups on a broker of the test's own: the deletion lists and
 * deletes by name, so it is never tried on a broker others use.
 */
const kafka = requireOwnKafkaBroker();
const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

test('when a namespace is not one a transport accepts, then no prefix is made of it', () => {
  for (const bad of ['', 'Upper', 'has.dot', '-leading', 'a'.repeat(42)]) assert.throws(() => kafkaNamespacePrefix(bad), /Not a Kafka namespace/);
  assert.equal(kafkaNamespacePrefix('orderstream'), 'orderstream.orderstream.');
});

describe('deleteKafkaNamespace against a broker of its own', { skip: kafka.skip }, () => {
  let broker: OwnKafkaBroker | undefined;
  let admin: Admin;

  before(async () => {
    broker = await startOwnKafkaBroker();
    admin = new Admin({ clientId: 'namespace-test', bootstrapBrokers: [broker.brokers] });
  });

  after(async () => {
    try {
      await (admin as Admin | undefined)?.close();
    } finally {
      await broker?.remove();
    }
  });

  /** A transport of `namespace` (none: undefined) whose consumer has read one message and committed its offset. */
  async function used(namespace: string | undefined, consumer: string): Promise<KafkaTransport> {
    const transport = new KafkaTransport({
      brokers: [broker?.brokers ?? ''], clientId: `namespace-test-${namespace ?? 'none'}`, partitions: 1, logger, closeTimeoutMs: 2_000,
      ...(namespace === undefined ? {} : { namespace }),
    });
    const seen = { delivered: false };
    transport.subscribe({ consumer, types: ['orders.placed'], deliver: () => { seen.delivered = true; return Promise.resolve(); } });
    await transport.ready();
    const envelope = createEnvelope({ type: 'orders.placed', version: 1, key: 'order-1', payload: {} });
    await transport.publish([{ topic: topicOf(envelope), envelope }]);
    const deadline = Date.now() + 30_000;
    while (!seen.delivered) {
      if (Date.now() > deadline) assert.fail(`${namespace ?? 'no namespace'}: the message was never delivered`);
      await sleep(25);
    }
    return transport;
  }

  async function names(): Promise<{ topics: string[]; groups: string[] }> {
    return {
      topics: (await admin.listTopics()).sort(),
      groups: [...(await admin.listGroups({ types: ['classic', 'consumer'] })).keys()].sort(),
    };
  }

  test('when a namespace is deleted, then its topics and groups are gone and those of other namespaces and of none stay', async () => {
    for (const [namespace, consumer] of [['gone', 'inventory.reservations'], ['gone-not', 'inventory.reservations'], ['kept', 'inventory.reservations'], [undefined, 'inventory.reservations']] as const) {
      await (await used(namespace, consumer)).close();
    }
    const before = await names();
    assert.ok(before.topics.includes('gone.orderstream.orders.v1') && before.groups.includes('gone.orderstream.inventory'), JSON.stringify(before));

    const deleted = await deleteKafkaNamespace({ brokers: [broker?.brokers ?? ''], namespace: 'gone' });

    assert.deepEqual(deleted, { topics: ['gone.orderstream.orders.v1'], groups: ['gone.orderstream.inventory'] });
    const left = await names();
    assert.deepEqual(left.topics.filter((topic) => !topic.startsWith('__')), ['gone-not.orderstream.orders.v1', 'kept.orderstream.orders.v1', 'orderstream.orders.v1']);
    assert.deepEqual(left.groups, ['gone-not.orderstream.inventory', 'kept.orderstream.inventory', 'orderstream.inventory']);
  });

  test('when a consumer of the namespace still reads, then it fails naming the group and deletes nothing', async () => {
    await (await used('busy', 'inventory.reservations')).close();
    const reading = await used('busy', 'payments.charges');
    try {
      await assert.rejects(
        deleteKafkaNamespace({ brokers: [broker?.brokers ?? ''], namespace: 'busy', groupWaitMs: 1_000 }),
        /still have members: busy\.orderstream\.payments;/,
      );
      const left = await names();
      assert.ok(left.topics.includes('busy.orderstream.orders.v1'), 'the topic stays');
      assert.ok(left.groups.includes('busy.orderstream.inventory'), 'the empty group stays too');
    } finally {
      await reading.close();
    }
  });
});
