import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, before, describe, test } from 'node:test';
import { Admin, Consumer, ListOffsetTimestamps, MessagesStreamModes, stringDeserializers } from '@platformatic/kafka';
import { sql } from 'kysely';
import { createLogger } from '../logging/logger.ts';
import { requireService } from '../testing/services.ts';
import { createTestDatabase, embeddedServerUrl } from '../testing/test-database.ts';
import { createEnvelope, topicOf, type Envelope } from './envelope.ts';
import { KafkaTransport, type KafkaTransportOptions } from './kafka-transport.ts';
import { createMessaging, messagingMigrations } from './index.ts';
import { appendToOutbox } from './outbox.ts';

const kafka = requireService('Kafka', 'KAFKA_BROKERS');
const brokers = (kafka.url ?? '').split(',').filter((broker) => broker !== '');
const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
// Topics and groups are named after the run, so runs against one broker never see each other's messages.
const run = randomBytes(4).toString('hex');
let sequence = 0;

/** A module name of its own: its topic (`orderstream.<module>.v1`) holds only this test's messages. */
function uniqueModule(): string {
  sequence += 1;
  return `kt${run}n${sequence}`;
}

const opened: KafkaTransport[] = [];

function openTransport(options: Partial<KafkaTransportOptions> = {}): KafkaTransport {
  const transport = new KafkaTransport({ brokers, clientId: `test-${run}`, partitions: 4, logger, closeTimeoutMs: 2_000, ...options });
  opened.push(transport);
  return transport;
}

function envelopesFor(type: string, keys: number, perKey: number): Envelope<{ index: number }>[] {
  const all: Envelope<{ index: number }>[] = [];
  // Keys interleaved, so one publish carries many keys and each key's messages are spread over publishes.
  for (let index = 0; index < perKey; index += 1) {
    for (let key = 0; key < keys; key += 1) all.push(createEnvelope({ type, version: 1, key: `key-${key}`, payload: { index } }));
  }
  return all;
}

async function publishInBatches(transport: KafkaTransport, envelopes: readonly Envelope[], batchSize: number): Promise<void> {
  for (let start = 0; start < envelopes.length; start += batchSize) {
    await transport.publish(envelopes.slice(start, start + batchSize).map((envelope) => ({ topic: topicOf(envelope), envelope })));
  }
}

/** Waits until `condition` holds, failing with `description` after a deadline generous enough for a loaded machine. */
async function eventually(description: string, condition: () => boolean | Promise<boolean>, deadlineMs = 30_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${description}`);
    await sleep(25);
  }
}

/** Messages a subscription received, in delivery order. */
function recorder(): { received: Envelope[]; ids: () => Set<string>; deliver: (envelope: Envelope) => Promise<void> } {
  const received: Envelope[] = [];
  return {
    received,
    ids: () => new Set(received.map((envelope) => envelope.id)),
    deliver: (envelope) => {
      received.push(envelope);
      return Promise.resolve();
    },
  };
}

describe('KafkaTransport against a real broker', { skip: kafka.skip }, () => {
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((transport) => transport.close()));
  });

  test('when many keys are published over many partitions, then each key arrives in publish order and the lag drains to zero', async () => {
    const type = `${uniqueModule()}.item-changed`;
    const envelopes = envelopesFor(type, 24, 25);
    const transport = openTransport();
    await publishInBatches(transport, envelopes, 40);

    const seen = recorder();
    // Deliveries take varying time, so only sequencing per partition keeps a key's order.
    transport.subscribe({
      consumer: `order-${run}`,
      types: [type],
      deliver: async (envelope) => {
        await sleep(Math.random() < 0.2 ? 3 : 0);
        await seen.deliver(envelope);
      },
    });
    await transport.ready();
    await eventually('every message arrived', () => seen.received.length >= envelopes.length);

    assert.equal(seen.received.length, envelopes.length, 'no message delivered twice without a restart');
    const byKey = new Map<string, number[]>();
    for (const envelope of seen.received as Envelope<{ index: number }>[]) {
      byKey.set(envelope.key, [...(byKey.get(envelope.key) ?? []), envelope.payload.index]);
    }
    assert.equal(byKey.size, 24);
    for (const [key, indexes] of byKey) assert.deepEqual(indexes, Array.from({ length: 25 }, (_, index) => index), `order of ${key}`);

    await eventually('the committed offsets caught up', async () => (await transport.lag()).every((partition) => partition.lag === 0));
    const lag = await transport.lag();
    assert.equal(lag.length, 4, 'one entry per partition of the topic');
    assert.ok(lag.filter((partition) => partition.endOffset > 0).length >= 2, 'keys are spread over several partitions');
    assert.equal(lag.reduce((sum, partition) => sum + partition.endOffset, 0), envelopes.length);
  });

  test('when a subscription takes batches, then what waited on a partition arrives as one batch in order, and its offsets are committed', async () => {
    const type = `${uniqueModule()}.batched`;
    const consumer = `batches-${run}`;
    const envelopes = envelopesFor(type, 1, 60);
    const transport = openTransport();
    await publishInBatches(transport, envelopes, 60);

    const batches: number[][] = [];
    transport.subscribe({
      consumer, types: [type],
      deliver: () => Promise.reject(new Error('this subscription takes batches')),
      deliverBatch: async (batch) => {
        batches.push((batch as Envelope<{ index: number }>[]).map((envelope) => envelope.payload.index));
        await sleep(20); // what arrives meanwhile waits for the next batch
      },
    });
    await transport.ready();
    await eventually('every message arrived', () => batches.flat().length >= envelopes.length);
    assert.deepEqual(batches.flat(), Array.from({ length: 60 }, (_, index) => index), 'one key, in publish order, each once');
    assert.ok(batches.length < 60 && batches.some((batch) => batch.length > 1), `delivered in batches: ${batches.map((batch) => batch.length).join(', ')}`);
    await eventually('the committed offsets caught up', async () => (await transport.lag()).every((partition) => partition.lag === 0));
  });

  test('when a batch subscription reads many partitions, then one batch at a time holds them all, each key in order, and every partition is committed', async () => {
    const type = `${uniqueModule()}.spread`;
    const envelopes = envelopesFor(type, 12, 15); // 12 keys over the topic's 4 partitions
    const transport = openTransport();
    await publishInBatches(transport, envelopes, 30);

    const batches: Envelope<{ index: number }>[][] = [];
    let delivering = 0;
    let mostAtOnce = 0;
    transport.subscribe({
      consumer: `spread-${run}`, types: [type],
      deliver: () => Promise.reject(new Error('this subscription takes batches')),
      deliverBatch: async (batch) => {
        delivering += 1;
        mostAtOnce = Math.max(mostAtOnce, delivering);
        batches.push([...batch] as Envelope<{ index: number }>[]);
        await sleep(20);
        delivering -= 1;
      },
    });
    await transport.ready();
    await eventually('every message arrived', () => batches.flat().length >= envelopes.length);
    assert.equal(mostAtOnce, 1, 'the subscription never has two batches in flight, whatever the partitions');
    const byKey = new Map<string, number[]>();
    for (const envelope of batches.flat()) byKey.set(envelope.key, [...(byKey.get(envelope.key) ?? []), envelope.payload.index]);
    assert.equal(byKey.size, 12);
    for (const [key, indexes] of byKey) assert.deepEqual(indexes, Array.from({ length: 15 }, (_, index) => index), `${key} in publish order, each once`);
    const lag = await transport.lag();
    assert.ok(lag.filter((partition) => partition.endOffset > 0).length >= 2, 'the keys are spread over several partitions');
    assert.ok(batches.length < 12, `the partitions' messages share batches: ${batches.map((batch) => batch.length).join(', ')}`);
    await eventually('the committed offsets of every partition caught up', async () => (await transport.lag()).every((partition) => partition.lag === 0));
  });

  test('when several consumers of one module subscribe, then one group reads for all of them and each gets only its types, in order', async () => {
    const module = uniqueModule();
    const other = uniqueModule();
    const mine = envelopesFor(`${module}.stock-reserved`, 3, 10);
    const theirs = envelopesFor(`${other}.payment-taken`, 3, 10);
    const nobodys = envelopesFor(`${module}.stock-counted`, 3, 10);
    const transport = openTransport();
    await publishInBatches(transport, [...mine, ...theirs, ...nobodys], 30);

    const first: number[][] = [];
    const second: number[][] = [];
    const batchesInto = (into: number[][]) => (batch: readonly Envelope[]) => {
      into.push((batch as Envelope<{ index: number }>[]).filter((envelope) => envelope.key === 'key-1').map((envelope) => envelope.payload.index));
      return Promise.resolve();
    };
    const refused = () => Promise.reject(new Error('this subscription takes batches'));
    transport.subscribe({ consumer: `${module}.reservations`, types: [`${module}.stock-reserved`], deliver: refused, deliverBatch: batchesInto(first) });
    transport.subscribe({ consumer: `${module}.payments`, types: [`${other}.payment-taken`], deliver: refused, deliverBatch: batchesInto(second) });
    await transport.ready();
    await eventually('every message of both types arrived', () => first.flat().length >= 10 && second.flat().length >= 10);

    const inOrder = Array.from({ length: 10 }, (_, index) => index);
    assert.deepEqual(first.flat(), inOrder, 'the first consumer gets its type alone, one key in publish order, each once');
    assert.deepEqual(second.flat(), inOrder, 'so does the second, from the other topic');
    await eventually('both consumers\' offsets caught up', async () => (await transport.lag()).every((partition) => partition.lag === 0));
    const lag = await transport.lag();
    assert.deepEqual(new Set(lag.map((partition) => partition.group)), new Set([`orderstream.${module}`]), 'one group, named after the module');
    assert.deepEqual(new Set(lag.map((partition) => partition.consumer)), new Set([`${module}.reservations`, `${module}.payments`]), 'lag is reported per consumer');
  });

  test('when the former per-consumer groups had committed, then the module group starts at the lowest of their offsets', async () => {
    const module = uniqueModule();
    const type = `${module}.counted`;
    const envelopes = envelopesFor(type, 1, 10);
    const producer = openTransport();
    await publishInBatches(producer, envelopes, 10);
    const topic = topicOf(envelopes[0]!);
    const admin = new Admin({ clientId: `test-${run}-admin`, bootstrapBrokers: brokers });
    try {
      const [listed] = await admin.listOffsets({ topics: [{ name: topic, partitions: [0, 1, 2, 3].map((partitionIndex) => ({ partitionIndex, timestamp: -1n })) }] });
      const partition = listed?.partitions.find((entry) => entry.offset > 0n)?.partitionIndex;
      assert.ok(partition !== undefined, 'the key landed on a partition');
      for (const [consumer, offset] of [['counter', 6n], ['auditor', 4n]] as const) {
        await admin.alterConsumerGroupOffsets({ groupId: `orderstream.${module}.${consumer}`, topics: [{ name: topic, partitionOffsets: [{ partition, offset }] }] });
      }
    } finally {
      await admin.close();
    }

    const counted: number[] = [];
    const audited: number[] = [];
    const transport = openTransport();
    for (const [consumer, into] of [['counter', counted], ['auditor', audited]] as const) {
      transport.subscribe({
        consumer: `${module}.${consumer}`,
        types: [type],
        deliver: (envelope) => {
          into.push((envelope as Envelope<{ index: number }>).payload.index);
          return Promise.resolve();
        },
      });
    }
    await transport.ready();
    await eventually('the rest arrived', () => counted.length >= 6 && audited.length >= 6);
    await eventually('the offsets caught up', async () => (await transport.lag()).every((partition) => partition.lag === 0));
    assert.deepEqual(counted, [4, 5, 6, 7, 8, 9], 'from where the group furthest behind had got to: nothing skipped, nothing before it re-read');
    assert.deepEqual(audited, [4, 5, 6, 7, 8, 9]);
  });

  test('when publish resolves, then the broker holds every message, keyed by aggregate id with the envelope fields as headers', async () => {
    const module = uniqueModule();
    const type = `${module}.thing-happened`;
    const envelopes = Array.from({ length: 10 }, (_, index) => ({
      ...createEnvelope({ type, version: 1, key: `thing-${index % 3}`, payload: { index } }),
      requestId: `request-${index}`,
      traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`,
    }));
    const transport = openTransport();
    await transport.publish(envelopes.map((envelope) => ({ topic: topicOf(envelope), envelope })));

    const topic = `orderstream.${module}.v1`;
    const reader = new Consumer({ clientId: `test-${run}-reader`, groupId: `test-${run}-reader-${module}`, bootstrapBrokers: brokers, deserializers: stringDeserializers, autocommit: false, maxWaitTime: 500 });
    try {
      // Read right after publish resolved, without waiting: acknowledged means written.
      const ends = await reader.listOffsets({ topics: [topic], timestamp: ListOffsetTimestamps.LATEST });
      assert.equal((ends.get(topic) ?? []).reduce((sum, offset) => sum + Number(offset), 0), envelopes.length);

      const stream = await reader.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST, autocommit: false });
      const byId = new Map(envelopes.map((envelope) => [envelope.id, envelope]));
      let read = 0;
      for await (const message of stream) {
        const sent = byId.get(message.headers.get('id') ?? '');
        assert.ok(sent !== undefined, 'the id header names a published envelope');
        assert.equal(message.key, sent.key);
        assert.deepEqual(JSON.parse(message.value), sent);
        assert.deepEqual(Object.fromEntries(message.headers), { id: sent.id, type, version: '1', requestId: sent.requestId, traceparent: sent.traceparent });
        read += 1;
        if (read === envelopes.length) break;
      }
      await stream.close();
    } finally {
      await reader.close(true);
    }
  });

  test('when a consumer closes mid-stream and a new one joins its group, then it continues from the committed offset and nothing is lost', async () => {
    const type = `${uniqueModule()}.step-done`;
    const consumer = `restart-${run}`;
    const first = envelopesFor(type, 10, 20);
    const producer = openTransport();
    await publishInBatches(producer, first, 50);

    const beforeRestart = recorder();
    const slow = openTransport();
    slow.subscribe({
      consumer,
      types: [type],
      deliver: async (envelope) => {
        await sleep(2);
        await beforeRestart.deliver(envelope);
      },
    });
    await eventually('the first consumer is half way', () => beforeRestart.received.length >= 60);
    await slow.close();
    const handledBefore = beforeRestart.ids();
    assert.ok(handledBefore.size < first.length, 'the first consumer stopped before the end');

    const second = envelopesFor(type, 10, 5);
    await publishInBatches(producer, second, 50);
    const afterRestart = recorder();
    const resumed = openTransport();
    resumed.subscribe({ consumer, types: [type], deliver: afterRestart.deliver });
    await eventually('every message was handled by one of them', () => {
      const all = new Set([...handledBefore, ...afterRestart.ids()]);
      return [...first, ...second].every((envelope) => all.has(envelope.id));
    });

    const redelivered = [...afterRestart.ids()].filter((id) => handledBefore.has(id));
    assert.deepEqual(redelivered, [], 'what the first consumer handled was committed before it left');
  });

  test('when messages are handled, then their offsets wait for the commit delay, and closing commits them so nothing comes again', async () => {
    const type = `${uniqueModule()}.note-taken`;
    const consumer = `delay-${run}`;
    const envelopes = envelopesFor(type, 8, 3);
    const producer = openTransport();
    await publishInBatches(producer, envelopes, 50);

    const first = recorder();
    const waiting = openTransport({ commitDelayMs: 600_000 });
    waiting.subscribe({ consumer, types: [type], deliver: first.deliver });
    await eventually('every message was handled', () => first.received.length >= envelopes.length);
    await sleep(500);
    const lag = await waiting.lag();
    assert.equal(lag.reduce((sum, partition) => sum + partition.lag, 0), envelopes.length, 'nothing is committed before the delay');
    await waiting.close();

    // One more message per key: each arrives after anything its partition would deliver again.
    const markers = envelopesFor(type, 8, 1);
    await publishInBatches(producer, markers, 50);
    const second = recorder();
    const resumed = openTransport();
    resumed.subscribe({ consumer, types: [type], deliver: second.deliver });
    await eventually('every marker arrived', () => markers.every((marker) => second.ids().has(marker.id)));
    assert.deepEqual(second.received.map((envelope) => envelope.id).sort(), markers.map((envelope) => envelope.id).sort(), 'what the first consumer handled was committed when it closed');
  });

  test('when deliver keeps throwing, then the partition waits, nothing after it is committed, and a restarted consumer gets it again', async () => {
    const type = `${uniqueModule()}.payment-due`;
    const consumer = `throwing-${run}`;
    const envelopes = Array.from({ length: 5 }, (_, index) => createEnvelope({ type, version: 1, key: 'one-key', payload: { index } }));
    const poison = envelopes[2]!;
    const producer = openTransport();
    await producer.publish(envelopes.map((envelope) => ({ topic: topicOf(envelope), envelope })));

    const delivered: string[] = [];
    let failures = 0;
    const failing = openTransport();
    failing.subscribe({
      consumer,
      types: [type],
      deliver: (envelope) => {
        if (envelope.id === poison.id) {
          failures += 1;
          return Promise.reject(new Error('database unavailable'));
        }
        delivered.push(envelope.id);
        return Promise.resolve();
      },
    });
    await eventually('the failing delivery was tried again', () => failures >= 2);
    assert.deepEqual(delivered, [envelopes[0]!.id, envelopes[1]!.id], 'messages after the failing one wait for it');
    await failing.close();

    const afterRestart = recorder();
    const resumed = openTransport();
    resumed.subscribe({ consumer, types: [type], deliver: afterRestart.deliver });
    await eventually('the rest arrived', () => afterRestart.received.length >= 3);
    assert.deepEqual(afterRestart.received.map((envelope) => envelope.id), envelopes.slice(2).map((envelope) => envelope.id));
  });

  test('when deliver never resolves, then close gives up on it without committing and a restarted consumer gets it again', async () => {
    const type = `${uniqueModule()}.stock-counted`;
    const consumer = `stuck-${run}`;
    const envelopes = Array.from({ length: 3 }, (_, index) => createEnvelope({ type, version: 1, key: 'one-key', payload: { index } }));
    const producer = openTransport();
    await producer.publish(envelopes.map((envelope) => ({ topic: topicOf(envelope), envelope })));

    let stuckCalls = 0;
    const stuck = openTransport({ closeTimeoutMs: 500 });
    stuck.subscribe({
      consumer,
      types: [type],
      deliver: () => {
        stuckCalls += 1;
        return new Promise<void>(() => undefined);
      },
    });
    await eventually('the first message is being delivered', () => stuckCalls === 1);
    const closing = Date.now();
    await stuck.close();
    assert.ok(Date.now() - closing < 10_000, 'close does not wait for a delivery that never ends');
    assert.equal(stuckCalls, 1, 'nothing after the stuck message was delivered');

    const afterRestart = recorder();
    const resumed = openTransport();
    resumed.subscribe({ consumer, types: [type], deliver: afterRestart.deliver });
    await eventually('all three arrived', () => afterRestart.received.length >= 3);
    assert.deepEqual(afterRestart.received.map((envelope) => envelope.id), envelopes.map((envelope) => envelope.id));
  });

  describe('with the messaging stack on a database', () => {
    let database: Awaited<ReturnType<typeof createTestDatabase>>;

    before(async () => {
      database = await createTestDatabase(embeddedServerUrl(), [messagingMigrations]);
      await sql`create table public.effects (message_id text not null, consumer text not null)`.execute(database.db);
    });

    after(async () => {
      await database.drop();
    });

    test('when an outbox row is relayed to Kafka and the same message is produced again, then the consumer has its effect once', async () => {
      const type = `${uniqueModule()}.order-confirmed`;
      const consumer = `effects-${run}`;
      const transport = openTransport();
      const messaging = createMessaging({
        db: database.db, transport, logger, retryPolicy: { maxAttempts: 3, baseDelayMs: 50 }, pollIntervalMs: 200, listenUrl: database.url,
      });
      messaging.register({
        name: consumer,
        types: [type],
        handle: async (envelope, transaction) => {
          await sql`insert into public.effects (message_id, consumer) values (${envelope.id}, ${consumer})`.execute(transaction);
        },
      });
      await transport.ready();
      await messaging.start();
      try {
        const envelope = createEnvelope({ type, version: 1, key: 'order-1', payload: { total: 42 } });
        await database.db.transaction().execute(async (transaction) => {
          await appendToOutbox(transaction, [envelope]);
        });

        const effects = async (): Promise<number> =>
          (await sql<{ count: number }>`select count(*)::int as count from public.effects where message_id = ${envelope.id}`.execute(database.db)).rows[0]?.count ?? -1;
        await eventually('the consumer had its effect', async () => (await effects()) === 1);
        const unsent = await sql<{ count: number }>`select count(*)::int as count from messaging.outbox where sent_at is null`.execute(database.db);
        assert.equal(unsent.rows[0]?.count, 0, 'the relay marked the row sent');

        // A relay that crashed after publishing and before marking the row publishes it again.
        await transport.publish([{ topic: topicOf(envelope), envelope }]);
        await eventually('the duplicate was consumed and committed', async () => {
          const lag = await transport.lag();
          return lag.reduce((sum, partition) => sum + partition.endOffset, 0) === 2 && lag.every((partition) => partition.lag === 0);
        });
        assert.equal(await effects(), 1, 'the inbox absorbed the duplicate');
      } finally {
        await messaging.stop();
      }
    });
  });
});
