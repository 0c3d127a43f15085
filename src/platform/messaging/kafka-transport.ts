import { setTimeout as sleep } from 'node:timers/promises';
import {
  Admin,
  Consumer,
  ListOffsetTimestamps,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
  ProduceAcks,
  Producer,
  compatibilityPartitioner,
  findErrorBy,
  stringDeserializers,
  stringSerializers,
  type Message,
  type MessagesStream,
} from '@platformatic/kafka';
import type { Logger } from '../logging/logger.ts';
import { topicOf, type Envelope } from './envelope.ts';
import type { MessageTransport, OutgoingMessage, Subscription } from './transport.ts';

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
   * Prefix of every topic and consumer group (`<namespace>.orderstream.orders.v1`), so that several
   * deployments (or test runs) can share one cluster without reading each other's messages.
   */
  namespace?: string;
}

/** Unconsumed messages of one consumer group on one partition, for metrics. */
export interface PartitionLag {
  consumer: string;
  group: string;
  topic: string;
  partition: number;
  /** Next offset the group will read; null when the group never committed on this partition. */
  committedOffset: number | null;
  /** Offset the next produced message will get. */
  endOffset: number;
  lag: number;
}

type KafkaMessage = Message<string, string, string, string>;
type KafkaStream = MessagesStream<string, string, string, string>;

/** One subscription's consumer group membership and the deliveries it has in progress. */
interface ConsumerState {
  subscription: Subscription;
  group: string;
  topics: string[];
  consumer: Consumer<string, string, string, string>;
  stream: KafkaStream | undefined;
  /**
   * The tail of each lane's delivery chain, one batch at a time per lane: a subscription that takes
   * batches has one lane for all its partitions (so a batch holds whatever arrived on any of them),
   * one that takes single messages a lane per topic-partition (so partitions proceed concurrently).
   */
  lanes: Map<string, Promise<void>>;
  /** Per lane, the batch waiting for the lane's turn, which messages arriving meanwhile join. */
  pending: Map<string, KafkaMessage[]>;
  inFlight: number;
  started: Promise<void>;
}

const maxInFlightPerConsumer = 256;

/**
 * Carries messages through Apache Kafka (adapter of `MessageTransport`). `publish` resolves once
 * the broker acknowledged every message (idempotent producer, acks=all), so the relay marks rows
 * sent only then. Each subscription is a consumer group `orderstream.<consumer>` that delivers
 * each partition's messages in order, in batches (what arrived on any of its partitions while the
 * previous batch was being delivered, through `deliverBatch` when the subscription has it; one
 * partition's at a time, partitions concurrently, when it has not), and commits an offset only
 * after the batch was delivered:
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
  readonly #consumers = new Map<string, ConsumerState>();
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
    if (this.#consumers.has(subscription.consumer)) throw new Error(`Consumer ${subscription.consumer} is already subscribed`);
    const group = `${this.#prefix}orderstream.${subscription.consumer}`;
    const topics = [...new Set(subscription.types.flatMap((type) => this.#versions.map((version) => this.#prefix + topicOf({ type, version }))))];
    const state: ConsumerState = {
      subscription,
      group,
      topics,
      consumer: new Consumer({
        clientId: `${this.#clientId}.${subscription.consumer}`,
        bootstrapBrokers: this.#brokers,
        groupId: group,
        deserializers: stringDeserializers,
        autocommit: false,
        sessionTimeout: 10_000,
        heartbeatInterval: 1_000,
        maxWaitTime: 1_000,
        highWaterMark: maxInFlightPerConsumer,
        retries: 10,
        retryDelay: 1_000,
      }),
      stream: undefined,
      lanes: new Map(),
      pending: new Map(),
      inFlight: 0,
      started: Promise.resolve(),
    };
    this.#consumers.set(subscription.consumer, state);
    state.started = this.#startConsuming(state);
  }

  /** Resolves once every subscription has joined its consumer group and started reading. */
  async ready(): Promise<void> {
    await Promise.all([...this.#consumers.values()].map((state) => state.started));
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

  /** Consumer lag of every subscription on every partition of its topics. */
  async lag(): Promise<PartitionLag[]> {
    const result: PartitionLag[] = [];
    for (const state of this.#consumers.values()) {
      const { consumer, topics } = state;
      const [latest, earliest] = await Promise.all([
        consumer.listOffsets({ topics, timestamp: ListOffsetTimestamps.LATEST }),
        consumer.listOffsets({ topics, timestamp: ListOffsetTimestamps.EARLIEST }),
      ]);
      const committed = await consumer.listCommittedOffsets({
        topics: topics.map((topic) => ({ topic, partitions: (latest.get(topic) ?? []).map((_, partition) => partition) })),
      });
      for (const topic of topics) {
        (latest.get(topic) ?? []).forEach((end, partition) => {
          const offset = committed.get(topic)?.[partition];
          const hasCommit = offset !== undefined && offset >= 0n;
          const from = hasCommit ? offset : (earliest.get(topic)?.[partition] ?? 0n);
          result.push({
            consumer: state.subscription.consumer,
            group: state.group,
            topic,
            partition,
            committedOffset: hasCommit ? Number(offset) : null,
            endOffset: Number(end),
            lag: Math.max(0, Number(end - from)),
          });
        });
      }
    }
    return result;
  }

  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#stopping.abort();
    const states = [...this.#consumers.values()];
    await Promise.allSettled(states.map((state) => state.started));
    await Promise.all(states.map(async (state) => {
      const settled = await this.#drain(state);
      if (!settled) {
        this.#logger.warn({ consumer: state.subscription.consumer, inFlight: state.inFlight }, 'kafka deliveries still running at close; their offsets stay uncommitted');
      }
      // Closing the stream flushes the offsets committed so far; closing the consumer leaves the group.
      await state.stream?.close().catch((error: unknown) => { this.#logger.warn({ err: error, consumer: state.subscription.consumer }, 'kafka stream close failed'); });
      await state.consumer.close(true).catch((error: unknown) => { this.#logger.warn({ err: error, consumer: state.subscription.consumer }, 'kafka consumer close failed'); });
    }));
    await this.#producer.close(true).catch((error: unknown) => { this.#logger.warn({ err: error }, 'kafka producer close failed'); });
    await this.#admin.close().catch((error: unknown) => { this.#logger.warn({ err: error }, 'kafka admin close failed'); });
  }

  /** Waits for the deliveries in progress, at most `closeTimeoutMs`; false if some are still running. */
  async #drain(state: ConsumerState): Promise<boolean> {
    const deadline = Date.now() + this.#closeTimeoutMs;
    while (state.lanes.size > 0) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      const timeout = new AbortController();
      await Promise.race([Promise.allSettled(state.lanes.values()), sleep(remaining, undefined, { signal: timeout.signal }).catch(() => undefined)]);
      timeout.abort();
    }
    return true;
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

  /** Joins the group and starts reading; on failure tries again until it works or the transport closes. */
  async #startConsuming(state: ConsumerState): Promise<void> {
    const { consumer: name } = state.subscription;
    for (let attempt = 1; !this.#isStopping(); attempt += 1) {
      try {
        await this.#ensureTopics(state.topics);
        const stream = await state.consumer.consume({
          topics: state.topics,
          autocommit: false,
          // A group's first start reads what was published before it existed: nothing is lost to a late consumer.
          mode: MessagesStreamModes.COMMITTED,
          fallbackMode: MessagesStreamFallbackModes.EARLIEST,
        });
        if (this.#isStopping()) {
          await stream.close();
          return;
        }
        state.stream = stream;
        stream.on('data', (message: KafkaMessage) => { this.#dispatch(state, stream, message); });
        stream.on('error', (error: Error) => { void this.#restart(state, stream, error); });
        this.#logger.debug({ consumer: name, group: state.group, topics: state.topics }, 'kafka consumer started');
        return;
      } catch (error) {
        if (this.#isStopping()) return;
        this.#logger.warn({ err: error, consumer: name, group: state.group, attempt }, 'kafka consumer could not start; trying again');
        await this.#pause(Math.min(500 * attempt, 10_000));
      }
    }
  }

  /** A broken stream (lost broker, fenced member) is replaced once the deliveries it started are done. */
  async #restart(state: ConsumerState, stream: KafkaStream, error: Error): Promise<void> {
    if (state.stream !== stream || this.#isStopping()) return;
    state.stream = undefined;
    this.#logger.warn({ err: error, consumer: state.subscription.consumer, group: state.group }, 'kafka consumer stream failed; restarting from the committed offsets');
    await this.#drain(state);
    await stream.close().catch(() => undefined);
    if (this.#isStopping()) return;
    state.started = this.#startConsuming(state);
  }

  /**
   * Queues a message behind the batch in progress on its lane: it joins the batch waiting for that
   * turn, or starts one. Lanes proceed independently; a batch is delivered at once. A batch keeps
   * each partition's messages in offset order, so per key the order holds.
   */
  #dispatch(state: ConsumerState, stream: KafkaStream, message: KafkaMessage): void {
    // Not delivered, so not committed: the next member of the group reads it again.
    if (state.stream !== stream || this.#isStopping()) return;
    const lane = state.subscription.deliverBatch === undefined ? `${message.topic}:${message.partition}` : 'batches';
    state.inFlight += 1;
    if (state.inFlight >= maxInFlightPerConsumer && !stream.isPaused()) stream.pause();
    const waiting = state.pending.get(lane);
    if (waiting !== undefined) {
      waiting.push(message);
      return;
    }
    const batch = [message];
    state.pending.set(lane, batch);
    const previous = state.lanes.get(lane) ?? Promise.resolve();
    const next: Promise<void> = previous
      .then(() => {
        // From here on the batch is closed; what arrives now waits for the next turn.
        if (state.pending.get(lane) === batch) state.pending.delete(lane);
        return this.#process(state, stream, batch);
      })
      .finally(() => {
        state.inFlight -= batch.length;
        if (state.lanes.get(lane) === next) state.lanes.delete(lane);
        if (stream.isPaused() && state.inFlight <= maxInFlightPerConsumer / 2 && state.stream === stream) stream.resume();
      });
    state.lanes.set(lane, next);
  }

  /**
   * Delivers a partition's batch in order (repeating a failed delivery, never skipping it) and
   * commits as it goes: a subscription that takes batches gets the batch's envelopes at once and
   * the last offset is committed after; one that takes single messages gets them one by one, each
   * committed after its delivery, and stops between two when the stream goes.
   */
  async #process(state: ConsumerState, stream: KafkaStream, messages: readonly KafkaMessage[]): Promise<void> {
    const { deliverBatch } = state.subscription;
    if (deliverBatch === undefined) {
      for (const message of messages) {
        if (state.stream !== stream || this.#isStopping()) return;
        await this.#deliverAndCommit(state, stream, [message], async (envelopes) => {
          for (const envelope of envelopes) await state.subscription.deliver(envelope);
        });
      }
      return;
    }
    await this.#deliverAndCommit(state, stream, messages, deliverBatch);
  }

  async #deliverAndCommit(
    state: ConsumerState, stream: KafkaStream, messages: readonly KafkaMessage[], deliver: (envelopes: readonly Envelope[]) => Promise<void>,
  ): Promise<void> {
    const { subscription } = state;
    // Each topic-partition's last message in the batch: its offset covers the partition's part of it.
    const lastOfPartition = new Map<string, KafkaMessage>();
    for (const message of messages) lastOfPartition.set(`${message.topic}:${message.partition}`, message);
    const last = messages.at(-1);
    if (last === undefined) return;
    const where = { consumer: subscription.consumer, topic: last.topic, partition: last.partition, offset: String(last.offset), messages: messages.length, partitions: lastOfPartition.size };
    const envelopes: Envelope[] = [];
    for (const message of messages) {
      const envelope = parseEnvelope(message.value);
      // Nothing can ever read it; holding the partition for it would stop every later message.
      if (envelope === undefined) this.#logger.error({ ...where, offset: String(message.offset) }, 'kafka message is not an envelope; skipped');
      else if (subscription.types.includes(envelope.type)) envelopes.push(envelope);
    }
    for (let attempt = 1; envelopes.length > 0; attempt += 1) {
      if (state.stream !== stream || this.#isStopping()) return;
      try {
        await deliver(envelopes);
        break;
      } catch (error) {
        // `deliver` records the consumer's own failures in messaging.retries and resolves; a rejection
        // means even that failed (database down), so the offset must not move past these messages.
        this.#logger.error({ ...where, err: error, attempt }, 'kafka delivery failed; retrying before committing');
        await this.#pause(Math.min(200 * 2 ** (attempt - 1), 10_000));
      }
    }
    // Commits are coalesced per partition by the client.
    for (const message of lastOfPartition.values()) {
      void message.commit((error?: Error) => {
        if (error) this.#logger.warn({ ...where, topic: message.topic, partition: message.partition, offset: String(message.offset), err: error }, 'kafka offset commit failed; the messages may be delivered again');
      });
    }
  }

  #isStopping(): boolean {
    return this.#stopping.signal.aborted;
  }

  /** Sleeps, waking early when the transport closes. */
  async #pause(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.#stopping.signal }).catch(() => undefined);
  }
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

function parseEnvelope(value: string | undefined): Envelope | undefined {
  if (value === undefined) return undefined;
  try {
    const parsed = JSON.parse(value) as Partial<Envelope> | null;
    if (parsed === null || typeof parsed !== 'object') return undefined;
    if (typeof parsed.id !== 'string' || typeof parsed.type !== 'string' || typeof parsed.version !== 'number' || typeof parsed.key !== 'string') return undefined;
    return parsed as Envelope;
  } catch {
    return undefined;
  }
}
