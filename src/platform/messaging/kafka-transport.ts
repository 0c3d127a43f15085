import { setTimeout as sleep } from 'node:timers/promises';
import {
  Admin,
  ProduceAcks,
  Producer,
  compatibilityPartitioner,
  findErrorBy,
  stringSerializers,
} from '@platformatic/kafka';
import type { Logger } from '../logging/logger.ts';
import { topicOf, type Envelope } from './envelope.ts';
import { KafkaConsumerGroup, type ConsumerGroupContext, type PartitionLag } from './kafka-consumer-group.ts';
import type { MessageTransport, OutgoingMessage, Subscription } from './transport.ts';

export type { PartitionLag } from './kafka-consumer-group.ts';

/** How to reach the brokers and how to lay out topics. */
export interface KafkaTransportOptions {
  /** Bootstrap brokers, `host:port`. */
  brokers: readonly string[];
  /** Prefix of every client id this transport opens (producer, admin, one consumer per subscription). */
  clientId: string;
  /** Partition count of the topics this transport creates; more partitions, more keys in parallel. */
  partitions: number;
  logger: Logger;
  /** Replicas of each created topic (default 1: the single local broker). */
  replicationFactor?: number;
  /** Versions of each subscribed type to read, one topic per module and version (default `[1]`). */
  versions?: readonly number[];
  /** How long `close()` waits for deliveries in progress before leaving them uncommitted (default 10 s). */
  closeTimeoutMs?: number;
  /**
   * How long a handled message's offset waits to be committed with the others of its group
   * (default `defaultCommitDelayMs`): one commit request per delay and group instead of one per message.
   */
  commitDelayMs?: number;
  /**
   * Prefix of every topic and consumer group (`<namespace>.orderstream.orders.v1`), so that several
   * deployments (or test runs) can share one cluster without reading each other's messages.
   */
  namespace?: string;
}

/**
 * Carries messages through Apache Kafka (adapter of `MessageTransport`). `publish` resolves once
 * the broker acknowledged every message (idempotent producer, acks=all), so the relay marks rows
 * sent only then. The subscriptions of one module share a consumer group `orderstream.<module>`
 * (`KafkaConsumerGroup`) that delivers
 * each partition's messages in order, in batches (what arrived on any of its partitions while the
 * previous batch was being delivered, through `deliverBatch` when the subscription has it; one
 * partition's at a time, partitions concurrently, when it has not), and commits an offset only
 * after the batch was delivered, with the group's other handled offsets once `commitDelayMs` has passed
 * (or when the stream closes):
 * a crash or a failed delivery means redelivery (absorbed by the inbox), never loss. Failures of
 * the consumer's effect are already durable in `messaging.retries`, so there is no retry topic
 * (docs/decisions/0005-kafka-transport.md).
 */
export class KafkaTransport implements MessageTransport {
  readonly #brokers: string[];
  readonly #clientId: string;
  readonly #prefix: string;
  readonly #partitions: number;
  readonly #replicationFactor: number;
  readonly #versions: readonly number[];
  readonly #closeTimeoutMs: number;
  readonly #logger: Logger;
  readonly #producer: Producer<string, string, string, string>;
  readonly #admin: Admin;
  readonly #groups = new Map<string, KafkaConsumerGroup>();
  readonly #groupContext: ConsumerGroupContext;
  /** Every subscribed consumer name: each may subscribe once. */
  readonly #subscribed = new Set<string>();
  /** Topics known to exist, or being created: each is created at most once per transport. */
  readonly #topics = new Map<string, Promise<void>>();
  readonly #stopping = new AbortController();
  #closed: Promise<void> | undefined;

  constructor(options: KafkaTransportOptions) {
    if (options.brokers.length === 0) throw new Error('KafkaTransport needs at least one broker');
    if (!Number.isInteger(options.partitions) || options.partitions < 1) throw new Error('KafkaTransport partitions must be a positive integer');
    this.#brokers = [...options.brokers];
    this.#clientId = options.clientId;
    this.#partitions = options.partitions;
    this.#replicationFactor = options.replicationFactor ?? 1;
    this.#versions = options.versions ?? [1];
    this.#closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
    this.#logger = options.logger;
    this.#prefix = options.namespace === undefined || options.namespace === '' ? '' : `${options.namespace}.`;
    this.#admin = new Admin({ clientId: `${this.#clientId}.admin`, bootstrapBrokers: this.#brokers, retries: 5, retryDelay: 500 });
    this.#producer = new Producer({
      clientId: `${this.#clientId}.producer`,
      bootstrapBrokers: this.#brokers,
      serializers: stringSerializers,
      idempotent: true,
      acks: ProduceAcks.ALL,
      // Java clients place a key on the same partition, so other producers keep per-key order.
      partitioner: compatibilityPartitioner,
      autocreateTopics: false,
      // Finite, so a broker that is down fails `publish` (the outbox keeps the rows) instead of hanging the relay.
      retries: 20,
      retryDelay: 250,
    });
    this.#groupContext = {
      brokers: this.#brokers,
      clientId: this.#clientId,
      prefix: this.#prefix,
      closeTimeoutMs: this.#closeTimeoutMs,
      ...(options.commitDelayMs === undefined ? {} : { commitDelayMs: options.commitDelayMs }),
      logger: this.#logger,
      admin: this.#admin,
      stopping: this.#stopping.signal,
      ensureTopics: (topics) => this.#ensureTopics(topics),
      topicsOf: (subscription) => this.#topicsOf(subscription),
    };
  }

  async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    if (this.#closed !== undefined) throw new Error('KafkaTransport is closed');
    if (messages.length === 0) return;
    await this.#ensureTopics([...new Set(messages.map((message) => this.#prefix + message.topic))]);
    await this.#producer.send({
      messages: messages.map(({ topic, envelope }) => ({
        topic: this.#prefix + topic,
        key: envelope.key,
        value: JSON.stringify(envelope),
        headers: headersOf(envelope),
      })),
    });
  }

  subscribe(subscription: Subscription): void {
    if (this.#closed !== undefined) throw new Error('KafkaTransport is closed');
    if (this.#subscribed.has(subscription.consumer)) throw new Error(`Consumer ${subscription.consumer} is already subscribed`);
    this.#subscribed.add(subscription.consumer);
    const module = moduleOf(subscription.consumer);
    let group = this.#groups.get(module);
    if (group === undefined) {
      group = new KafkaConsumerGroup(module, this.#groupContext);
      this.#groups.set(module, group);
    }
    group.add(subscription);
  }

  #topicsOf(subscription: Subscription): string[] {
    return [...new Set(subscription.types.flatMap((type) => this.#versions.map((version) => this.#prefix + topicOf({ type, version }))))];
  }

  /** Resolves once every subscription has joined its consumer group and started reading. */
  async ready(): Promise<void> {
    await Promise.all([...this.#groups.values()].map((group) => group.started));
  }

  /** True when a broker answers a metadata request now (readiness); cached metadata does not count. */
  async isReachable(): Promise<boolean> {
    try {
      await this.#admin.metadata({ topics: [], forceUpdate: true, retries: 0 });
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Consumer lag of every subscription on every partition of its topics: its group's, which it
   * shares with the module's other consumers reading that topic.
   */
  async lag(): Promise<PartitionLag[]> {
    const result: PartitionLag[] = [];
    for (const group of this.#groups.values()) result.push(...await group.lag());
    return result;
  }

  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#stopping.abort();
    const groups = [...this.#groups.values()];
    await Promise.allSettled(groups.map((group) => group.started));
    await Promise.all(groups.map((group) => group.close()));
    await this.#producer.close(true).catch((error: unknown) => { this.#logger.warn({ err: error }, 'kafka producer close failed'); });
    await this.#admin.close().catch((error: unknown) => { this.#logger.warn({ err: error }, 'kafka admin close failed'); });
  }

  /** Creates the missing topics (an existing one is fine) and waits until their partitions have leaders. */
  async #ensureTopics(topics: readonly string[]): Promise<void> {
    await Promise.all(topics.map((topic) => {
      let created = this.#topics.get(topic);
      if (created === undefined) {
        created = this.#createTopic(topic);
        this.#topics.set(topic, created);
        // A failed creation is attempted again by the next caller.
        created.catch(() => { this.#topics.delete(topic); });
      }
      return created;
    }));
  }

  async #createTopic(topic: string): Promise<void> {
    try {
      await this.#admin.createTopics({ topics: [topic], partitions: this.#partitions, replicas: this.#replicationFactor });
      this.#logger.info({ topic, partitions: this.#partitions }, 'kafka topic created');
    } catch (error) {
      if (findErrorBy(error instanceof Error ? error : undefined, 'apiId', 'TOPIC_ALREADY_EXISTS') === null) throw error;
    }
    for (let attempt = 1; ; attempt += 1) {
      const metadata = await this.#admin.metadata({ topics: [topic], forceUpdate: true });
      const partitions = metadata.topics.get(topic)?.partitions ?? [];
      if (partitions.length > 0 && partitions.every((partition) => partition.leader >= 0)) {
        if (partitions.length !== this.#partitions) {
          this.#logger.warn({ topic, partitions: partitions.length, configured: this.#partitions }, 'kafka topic exists with another partition count; leaving it');
        }
        return;
      }
      if (attempt === 50) throw new Error(`Kafka topic ${topic} has no leader for every partition`);
      await sleep(100);
    }
  }
}

/** The module a consumer belongs to, whose group it reads through: its name's part before the first dot. */
function moduleOf(consumer: string): string {
  const dot = consumer.indexOf('.');
  return dot <= 0 ? consumer : consumer.slice(0, dot);
}

/** Envelope fields as headers, so tools and other clients route and trace without parsing the value. */
function headersOf(envelope: Envelope): Record<string, string> {
  return {
    id: envelope.id,
    type: envelope.type,
    version: String(envelope.version),
    ...(envelope.requestId === undefined ? {} : { requestId: envelope.requestId }),
    ...(envelope.traceparent === undefined ? {} : { traceparent: envelope.traceparent }),
  };
}
