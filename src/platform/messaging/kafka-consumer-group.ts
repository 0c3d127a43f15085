import { setTimeout as sleep } from 'node:timers/promises';
import {
  Consumer,
  ListOffsetTimestamps,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
  stringDeserializers,
  type Admin,
} from '@platformatic/kafka';
import type { Logger } from '../logging/logger.ts';
import { KafkaGroupDelivery, maxInFlightPerGroup, pauseUnlessStopping, type KafkaMessage, type KafkaStream } from './kafka-group-delivery.ts';
import type { Subscription } from './transport.ts';

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

/** What a consumer group takes from its transport: the brokers, how topics are named and created, when to stop. */
export interface ConsumerGroupContext {
  brokers: readonly string[];
  /** Prefix of the group's client id: the transport's. */
  clientId: string;
  /** Prefix of every topic and consumer group: the namespace and a dot, or nothing. */
  prefix: string;
  /** How long `close()` waits for deliveries in progress before leaving them uncommitted. */
  closeTimeoutMs: number;
  /** How long a handled offset waits to be committed with the group's others (see `GroupDeliveryOptions`). */
  commitDelayMs?: number;
  logger: Logger;
  admin: Admin;
  /** Aborted when the transport closes. */
  stopping: AbortSignal;
  /** Creates the missing topics and waits until their partitions have leaders. */
  ensureTopics: (topics: readonly string[]) => Promise<void>;
  /** The topics a subscription reads: one per type and version read. */
  topicsOf: (subscription: Subscription) => string[];
}

/**
 * One consumer group: the subscriptions of one module in a transport (`inventory.reserve-stock`,
 * `inventory.release-stock`, … share `orderstream.inventory`), reading the union of their topics
 * once and handing each subscription the messages of its types.
 */
export class KafkaConsumerGroup {
  /** The module whose consumers read through this group: the consumer names' part before the first dot. */
  readonly module: string;
  readonly group: string;
  readonly #context: ConsumerGroupContext;
  readonly #subscriptions: Subscription[] = [];
  /** Types any subscription wants: a message of another type is committed past without being parsed. */
  readonly #types = new Set<string>();
  #topics: string[] = [];
  /** The topics the current (or starting) stream reads; a subscription that adds one restarts it. */
  #consumingTopics: string[] = [];
  readonly #consumer: Consumer<string, string, string, string>;
  #stream: KafkaStream | undefined;
  readonly #delivery: KafkaGroupDelivery;
  #started: Promise<void> = Promise.resolve();

  constructor(module: string, context: ConsumerGroupContext) {
    this.module = module;
    this.group = `${context.prefix}orderstream.${module}`;
    this.#context = context;
    this.#consumer = new Consumer({
      clientId: `${context.clientId}.${module}`,
      bootstrapBrokers: [...context.brokers],
      groupId: this.group,
      deserializers: stringDeserializers,
      autocommit: false,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      maxWaitTime: 1_000,
      highWaterMark: maxInFlightPerGroup,
      retries: 10,
      retryDelay: 1_000,
    });
    this.#delivery = new KafkaGroupDelivery({
      group: this.group,
      logger: context.logger,
      subscriptions: this.#subscriptions,
      types: this.#types,
      currentStream: () => this.#stream,
      stopping: context.stopping,
      ...(context.commitDelayMs === undefined ? {} : { commitDelayMs: context.commitDelayMs }),
    });
  }

  /** Settles once the group has joined and started reading every subscription's topics (or the transport closed). */
  get started(): Promise<void> {
    return this.#started;
  }

  /** Adds a subscription of the group's module; the first starts the group, a later one adds its topics. */
  add(subscription: Subscription): void {
    const first = this.#subscriptions.length === 0;
    this.#subscriptions.push(subscription);
    for (const type of subscription.types) this.#types.add(type);
    this.#topics = [...new Set([...this.#topics, ...this.#context.topicsOf(subscription)])];
    if (first) {
      // The module's other consumers usually subscribe in the same turn: the group starts once, after them.
      this.#started = sleep(0).then(() => this.#startConsuming());
    } else {
      // One that comes later restarts the group's stream with its topics added.
      this.#started = this.#started.then(() => this.#addTopics());
    }
  }

  /** Each subscription's lag on every partition of its topics: the group's, which the module's consumers of a topic share. */
  async lag(): Promise<PartitionLag[]> {
    const result: PartitionLag[] = [];
    const consumer = this.#consumer;
    const topics = this.#topics;
    const [latest, earliest] = await Promise.all([
      consumer.listOffsets({ topics, timestamp: ListOffsetTimestamps.LATEST }),
      consumer.listOffsets({ topics, timestamp: ListOffsetTimestamps.EARLIEST }),
    ]);
    const committed = await consumer.listCommittedOffsets({
      topics: topics.map((topic) => ({ topic, partitions: (latest.get(topic) ?? []).map((_, partition) => partition) })),
    });
    for (const subscription of this.#subscriptions) {
      for (const topic of this.#context.topicsOf(subscription)) {
        (latest.get(topic) ?? []).forEach((end, partition) => {
          const offset = committed.get(topic)?.[partition];
          const hasCommit = offset !== undefined && offset >= 0n;
          const from = hasCommit ? offset : (earliest.get(topic)?.[partition] ?? 0n);
          result.push({
            consumer: subscription.consumer,
            group: this.group,
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

  /** Once the transport is stopping: waits for the deliveries in progress, then leaves the group. */
  async close(): Promise<void> {
    const { logger } = this.#context;
    const settled = await this.#drain();
    if (!settled) {
      logger.warn({ group: this.group, inFlight: this.#delivery.inFlight }, 'kafka deliveries still running at close; their offsets stay uncommitted');
    }
    // Closing the stream flushes the offsets committed so far; closing the consumer leaves the group.
    this.#delivery.flushCommits();
    await this.#stream?.close().catch((error: unknown) => { logger.warn({ err: error, group: this.group }, 'kafka stream close failed'); });
    await this.#consumer.close(true).catch((error: unknown) => { logger.warn({ err: error, group: this.group }, 'kafka consumer close failed'); });
  }

  /** Waits for the deliveries in progress, at most `closeTimeoutMs`; false if some are still running. */
  #drain(): Promise<boolean> {
    return this.#delivery.drain(this.#context.closeTimeoutMs);
  }

  /** Joins the group and starts reading; on failure tries again until it works or the transport closes. */
  async #startConsuming(): Promise<void> {
    const { logger } = this.#context;
    for (let attempt = 1; !this.#isStopping(); attempt += 1) {
      const topics = [...this.#topics];
      try {
        await this.#context.ensureTopics(topics);
        if (attempt === 1 && this.#consumingTopics.length === 0) await this.#adoptFormerOffsets();
        const stream = await this.#consumer.consume({
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
        this.#stream = stream;
        this.#consumingTopics = topics;
        stream.on('data', (message: KafkaMessage) => { this.#delivery.dispatch(stream, message); });
        stream.on('error', (error: Error) => { void this.#restart(stream, error); });
        logger.debug({ group: this.group, consumers: this.#subscriptions.map((subscription) => subscription.consumer), topics }, 'kafka consumer started');
        return;
      } catch (error) {
        if (this.#isStopping()) return;
        logger.warn({ err: error, group: this.group, attempt }, 'kafka consumer could not start; trying again');
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
  async #adoptFormerOffsets(): Promise<void> {
    const { admin, logger, prefix, topicsOf } = this.#context;
    const former = new Map(this.#subscriptions
      .map((subscription) => [`${prefix}orderstream.${subscription.consumer}`, topicsOf(subscription)] as const)
      .filter(([group]) => group !== this.group));
    if (former.size === 0) return;
    try {
      const listed = await admin.listConsumerGroupOffsets({ groups: [this.group, ...former.keys()] });
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
      const own = committed.get(this.group) ?? new Map<string, bigint>();
      const adopted = new Map<string, { partition: number; offset: bigint }[]>();
      for (const topic of this.#topics) {
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
      await admin.alterConsumerGroupOffsets({
        groupId: this.group,
        topics: [...adopted].map(([name, partitionOffsets]) => ({ name, partitionOffsets })),
      });
      logger.info({ group: this.group, formerGroups: [...former.keys()], topics: [...adopted.keys()] }, 'kafka group starts where the former per-consumer groups got to');
    } catch (error) {
      logger.info({ err: error, group: this.group }, 'kafka group could not take over the former groups\' offsets; it reads from its own or the earliest');
    }
  }

  /** A broken stream (lost broker, fenced member) is replaced once the deliveries it started are done. */
  async #restart(stream: KafkaStream, error: Error): Promise<void> {
    if (this.#stream !== stream || this.#isStopping()) return;
    this.#stream = undefined;
    this.#context.logger.warn({ err: error, group: this.group }, 'kafka consumer stream failed; restarting from the committed offsets');
    await this.#drain();
    this.#delivery.flushCommits();
    await stream.close().catch(() => undefined);
    if (this.#isStopping()) return;
    this.#started = this.#startConsuming();
  }

  /** A subscription joined a group already reading: its stream is replaced by one that reads the new topics too. */
  async #addTopics(): Promise<void> {
    if (this.#topics.every((topic) => this.#consumingTopics.includes(topic)) || this.#isStopping()) return;
    const stream = this.#stream;
    this.#stream = undefined;
    if (stream !== undefined) {
      await this.#drain();
      this.#delivery.flushCommits();
      await stream.close().catch(() => undefined);
    }
    await this.#startConsuming();
  }

  #isStopping(): boolean {
    return this.#context.stopping.aborted;
  }

  /** Sleeps, waking early when the transport closes. */
  #pause(ms: number): Promise<void> {
    return pauseUnlessStopping(ms, this.#context.stopping);
  }
}
