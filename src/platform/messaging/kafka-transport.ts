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

/**
 * One consumer group: the subscriptions of one module in this transport (`inventory.reserve-stock`,
 * `inventory.release-stock`, … share `orderstream.inventory`), reading the union of their topics
 * once and handing each subscription the messages of its types.
 */
interface GroupState {
  /** The module whose consumers read through this group: the consumer names' part before the first dot. */
  module: string;
  group: string;
  subscriptions: Subscription[];
  /** Types any subscription wants: a message of another type is committed past without being parsed. */
  types: Set<string>;
  topics: string[];
  /** The topics the current (or starting) stream reads; a subscription that adds one restarts it. */
  consumingTopics: string[];
  consumer: Consumer<string, string, string, string>;
  stream: KafkaStream | undefined;
  /**
   * The tail of each lane's delivery chain, one batch at a time per lane: a group whose
   * subscriptions all take batches has one lane for all its partitions (so a batch holds whatever
   * arrived on any of them), otherwise a lane per topic-partition (so partitions proceed concurrently).
   */
  lanes: Map<string, Promise<void>>;
  /** Per lane, the batch waiting for the lane's turn, which messages arriving meanwhile join. */
  pending: Map<string, KafkaMessage[]>;
  inFlight: number;
  started: Promise<void>;
}

const maxInFlightPerGroup = 256;

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
  readonly #groups = new Map<string, GroupState>();
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
    const existing = this.#groups.get(module);
    const state = existing ?? this.#newGroup(module);
    state.subscriptions.push(subscription);
    for (const type of subscription.types) state.types.add(type);
    state.topics = [...new Set([...state.topics, ...this.#topicsOf(subscription)])];
    if (existing === undefined) {
      this.#groups.set(module, state);
      // The module's other consumers usually subscribe in the same turn: the group starts once, after them.
      state.started = sleep(0).then(() => this.#startConsuming(state));
    } else {
      // One that comes later restarts the group's stream with its topics added.
      state.started = state.started.then(() => this.#addTopics(state));
    }
  }

  #newGroup(module: string): GroupState {
    const group = `${this.#prefix}orderstream.${module}`;
    return {
      module,
      group,
      subscriptions: [],
      types: new Set(),
      topics: [],
      consumingTopics: [],
      consumer: new Consumer({
        clientId: `${this.#clientId}.${module}`,
        bootstrapBrokers: this.#brokers,
        groupId: group,
        deserializers: stringDeserializers,
        autocommit: false,
        sessionTimeout: 10_000,
        heartbeatInterval: 1_000,
        maxWaitTime: 1_000,
        highWaterMark: maxInFlightPerGroup,
        retries: 10,
        retryDelay: 1_000,
      }),
      stream: undefined,
      lanes: new Map(),
      pending: new Map(),
      inFlight: 0,
      started: Promise.resolve(),
    };
  }

  #topicsOf(subscription: Subscription): string[] {
    return [...new Set(subscription.types.flatMap((type) => this.#versions.map((version) => this.#prefix + topicOf({ type, version }))))];
  }

  /** Resolves once every subscription has joined its consumer group and started reading. */
  async ready(): Promise<void> {
    await Promise.all([...this.#groups.values()].map((state) => state.started));
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
    for (const state of this.#groups.values()) {
      const { consumer, topics } = state;
      const [latest, earliest] = await Promise.all([
        consumer.listOffsets({ topics, timestamp: ListOffsetTimestamps.LATEST }),
        consumer.listOffsets({ topics, timestamp: ListOffsetTimestamps.EARLIEST }),
      ]);
      const committed = await consumer.listCommittedOffsets({
        topics: topics.map((topic) => ({ topic, partitions: (latest.get(topic) ?? []).map((_, partition) => partition) })),
      });
      for (const subscription of state.subscriptions) {
        for (const topic of this.#topicsOf(subscription)) {
          (latest.get(topic) ?? []).forEach((end, partition) => {
            const offset = committed.get(topic)?.[partition];
            const hasCommit = offset !== undefined && offset >= 0n;
            const from = hasCommit ? offset : (earliest.get(topic)?.[partition] ?? 0n);
            result.push({
              consumer: subscription.consumer,
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
    }
    return result;
  }

  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#stopping.abort();
    const states = [...this.#groups.values()];
    await Promise.allSettled(states.map((state) => state.started));
    await Promise.all(states.map(async (state) => {
      const settled = await this.#drain(state);
      if (!settled) {
        this.#logger.warn({ group: state.group, inFlight: state.inFlight }, 'kafka deliveries still running at close; their offsets stay uncommitted');
      }
      // Closing the stream flushes the offsets committed so far; closing the consumer leaves the group.
      await state.stream?.close().catch((error: unknown) => { this.#logger.warn({ err: error, group: state.group }, 'kafka stream close failed'); });
      await state.consumer.close(true).catch((error: unknown) => { this.#logger.warn({ err: error, group: state.group }, 'kafka consumer close failed'); });
    }));
    await this.#producer.close(true).catch((error: unknown) => { this.#logger.warn({ err: error }, 'kafka producer close failed'); });
    await this.#admin.close().catch((error: unknown) => { this.#logger.warn({ err: error }, 'kafka admin close failed'); });
  }

  /** Waits for the deliveries in progress, at most `closeTimeoutMs`; false if some are still running. */
  async #drain(state: GroupState): Promise<boolean> {
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
  async #startConsuming(state: GroupState): Promise<void> {
    for (let attempt = 1; !this.#isStopping(); attempt += 1) {
      const topics = [...state.topics];
      try {
        await this.#ensureTopics(topics);
        if (attempt === 1 && state.consumingTopics.length === 0) await this.#adoptFormerOffsets(state);
        const stream = await state.consumer.consume({
          topics,
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
        state.consumingTopics = topics;
        stream.on('data', (message: KafkaMessage) => { this.#dispatch(state, stream, message); });
        stream.on('error', (error: Error) => { void this.#restart(state, stream, error); });
        this.#logger.debug({ group: state.group, consumers: state.subscriptions.map((subscription) => subscription.consumer), topics }, 'kafka consumer started');
        return;
      } catch (error) {
        if (this.#isStopping()) return;
        this.#logger.warn({ err: error, group: state.group, attempt }, 'kafka consumer could not start; trying again');
        await this.#pause(Math.min(500 * attempt, 10_000));
      }
    }
  }

  /**
   * Before this version a group read for one consumer (`orderstream.<consumer>`). A module group
   * that has committed nothing on a partition yet starts where the module's former groups all had
   * got to (the lowest of their offsets), so an upgrade neither skips nor re-reads a topic from its
   * start. Best effort: when it cannot be done (another instance already reads, the broker refuses),
   * the group reads from the earliest offset and the inbox absorbs what comes twice.
   */
  async #adoptFormerOffsets(state: GroupState): Promise<void> {
    const former = new Map(state.subscriptions
      .map((subscription) => [`${this.#prefix}orderstream.${subscription.consumer}`, this.#topicsOf(subscription)] as const)
      .filter(([group]) => group !== state.group));
    if (former.size === 0) return;
    try {
      const listed = await this.#admin.listConsumerGroupOffsets({ groups: [state.group, ...former.keys()] });
      const committed = new Map<string, Map<string, bigint>>();
      for (const { groupId, topics } of listed) {
        const offsets = new Map<string, bigint>();
        for (const topic of topics) {
          for (const partition of topic.partitions) {
            if (partition.committedOffset >= 0n) offsets.set(`${topic.name}:${partition.partitionIndex}`, partition.committedOffset);
          }
        }
        committed.set(groupId, offsets);
      }
      const own = committed.get(state.group) ?? new Map<string, bigint>();
      const adopted = new Map<string, { partition: number; offset: bigint }[]>();
      for (const topic of state.topics) {
        const readers = [...former].filter(([, topics]) => topics.includes(topic)).map(([group]) => committed.get(group) ?? new Map<string, bigint>());
        if (readers.length === 0) continue;
        const partitions = new Set(readers.flatMap((offsets) => [...offsets.keys()].filter((key) => key.startsWith(`${topic}:`))));
        for (const key of partitions) {
          if (own.has(key)) continue;
          const offsets = readers.map((offsets) => offsets.get(key));
          // A former group that never committed here would have read it from the start: so does this one.
          if (!offsets.every((offset) => offset !== undefined)) continue;
          const lowest = offsets.reduce((low, offset) => (offset < low ? offset : low));
          adopted.set(topic, [...(adopted.get(topic) ?? []), { partition: Number(key.slice(topic.length + 1)), offset: lowest }]);
        }
      }
      if (adopted.size === 0) return;
      await this.#admin.alterConsumerGroupOffsets({
        groupId: state.group,
        topics: [...adopted].map(([name, partitionOffsets]) => ({ name, partitionOffsets })),
      });
      this.#logger.info({ group: state.group, formerGroups: [...former.keys()], topics: [...adopted.keys()] }, 'kafka group starts where the former per-consumer groups got to');
    } catch (error) {
      this.#logger.info({ err: error, group: state.group }, 'kafka group could not take over the former groups\' offsets; it reads from its own or the earliest');
    }
  }

  /** A broken stream (lost broker, fenced member) is replaced once the deliveries it started are done. */
  async #restart(state: GroupState, stream: KafkaStream, error: Error): Promise<void> {
    if (state.stream !== stream || this.#isStopping()) return;
    state.stream = undefined;
    this.#logger.warn({ err: error, group: state.group }, 'kafka consumer stream failed; restarting from the committed offsets');
    await this.#drain(state);
    await stream.close().catch(() => undefined);
    if (this.#isStopping()) return;
    state.started = this.#startConsuming(state);
  }

  /** A subscription joined a group already reading: its stream is replaced by one that reads the new topics too. */
  async #addTopics(state: GroupState): Promise<void> {
    if (state.topics.every((topic) => state.consumingTopics.includes(topic)) || this.#isStopping()) return;
    const stream = state.stream;
    state.stream = undefined;
    if (stream !== undefined) {
      await this.#drain(state);
      await stream.close().catch(() => undefined);
    }
    await this.#startConsuming(state);
  }

  /**
   * Queues a message behind the batch in progress on its lane: it joins the batch waiting for that
   * turn, or starts one. Lanes proceed independently; a batch is delivered at once. A batch keeps
   * each partition's messages in offset order, so per key the order holds.
   */
  #dispatch(state: GroupState, stream: KafkaStream, message: KafkaMessage): void {
    // Not delivered, so not committed: the next member of the group reads it again.
    if (state.stream !== stream || this.#isStopping()) return;
    const batches = state.subscriptions.every((subscription) => subscription.deliverBatch !== undefined);
    const lane = batches ? 'batches' : `${message.topic}:${message.partition}`;
    state.inFlight += 1;
    if (state.inFlight >= maxInFlightPerGroup && !stream.isPaused()) stream.pause();
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
        return batches ? this.#processBatch(state, stream, batch) : this.#processInTurn(state, stream, batch);
      })
      .finally(() => {
        state.inFlight -= batch.length;
        if (state.lanes.get(lane) === next) state.lanes.delete(lane);
        if (stream.isPaused() && state.inFlight <= maxInFlightPerGroup / 2 && state.stream === stream) stream.resume();
      });
    state.lanes.set(lane, next);
  }

  /**
   * Every subscription takes batches: each gets the batch's envelopes of its types at once, in
   * offset order per partition, all subscriptions concurrently (each has its own inbox); the
   * batch's offsets are committed once every one of them is done.
   */
  async #processBatch(state: GroupState, stream: KafkaStream, messages: readonly KafkaMessage[]): Promise<void> {
    const envelopes = this.#envelopesOf(state, messages);
    const done = await Promise.all(state.subscriptions.map((subscription) => {
      const mine = envelopes.filter((envelope) => subscription.types.includes(envelope.type));
      const deliverBatch = subscription.deliverBatch;
      if (mine.length === 0 || deliverBatch === undefined) return Promise.resolve(true);
      return this.#untilDelivered(state, stream, subscription, messages, () => deliverBatch(mine));
    }));
    if (done.every(Boolean)) this.#commit(messages);
  }

  /**
   * Some subscription takes single messages: one partition's messages one after another, each
   * delivered to every subscription of its type and committed after, stopping between two when
   * the stream goes.
   */
  async #processInTurn(state: GroupState, stream: KafkaStream, messages: readonly KafkaMessage[]): Promise<void> {
    for (const message of messages) {
      const [envelope] = this.#envelopesOf(state, [message]);
      for (const subscription of state.subscriptions) {
        if (envelope === undefined || !subscription.types.includes(envelope.type)) continue;
        const delivered = await this.#untilDelivered(state, stream, subscription, [message], () =>
          subscription.deliverBatch === undefined ? subscription.deliver(envelope) : subscription.deliverBatch([envelope]));
        if (!delivered) return;
      }
      this.#commit([message]);
    }
  }

  /** The envelopes of the messages some subscription wants, in order; a message of another type (its header says) is not parsed. */
  #envelopesOf(state: GroupState, messages: readonly KafkaMessage[]): Envelope[] {
    const envelopes: Envelope[] = [];
    for (const message of messages) {
      const type = message.headers.get('type');
      if (type !== undefined && !state.types.has(type)) continue;
      const envelope = parseEnvelope(message.value);
      // Nothing can ever read it; holding the partition for it would stop every later message.
      if (envelope === undefined) this.#logger.error({ group: state.group, topic: message.topic, partition: message.partition, offset: String(message.offset) }, 'kafka message is not an envelope; skipped');
      else if (state.types.has(envelope.type)) envelopes.push(envelope);
    }
    return envelopes;
  }

  /**
   * Repeats a delivery until it resolves; false when the stream went or the transport is closing
   * first (nothing may then be committed). `deliver` records the consumer's own failures in
   * messaging.retries and resolves; a rejection means even that failed (database down), so the
   * offset must not move past these messages.
   */
  async #untilDelivered(
    state: GroupState, stream: KafkaStream, subscription: Subscription, messages: readonly KafkaMessage[], deliver: () => Promise<void>,
  ): Promise<boolean> {
    for (let attempt = 1; ; attempt += 1) {
      if (state.stream !== stream || this.#isStopping()) return false;
      try {
        await deliver();
        return true;
      } catch (error) {
        const last = messages.at(-1);
        this.#logger.error({
          err: error, attempt, consumer: subscription.consumer, group: state.group, messages: messages.length,
          ...(last === undefined ? {} : { topic: last.topic, partition: last.partition, offset: String(last.offset) }),
        }, 'kafka delivery failed; retrying before committing');
        await this.#pause(Math.min(200 * 2 ** (attempt - 1), 10_000));
      }
    }
  }

  /** Commits each topic-partition's last offset among `messages` (the client coalesces commits per partition). */
  #commit(messages: readonly KafkaMessage[]): void {
    const lastOfPartition = new Map<string, KafkaMessage>();
    for (const message of messages) lastOfPartition.set(`${message.topic}:${message.partition}`, message);
    for (const message of lastOfPartition.values()) {
      void message.commit((error?: Error) => {
        if (error) this.#logger.warn({ topic: message.topic, partition: message.partition, offset: String(message.offset), err: error }, 'kafka offset commit failed; the messages may be delivered again');
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
