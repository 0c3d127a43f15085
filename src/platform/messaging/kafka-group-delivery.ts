import { setTimeout as sleep } from 'node:timers/promises';
import type { Message, MessagesStream } from '@platformatic/kafka';
import type { Logger } from '../logging/logger.ts';
import type { Envelope } from './envelope.ts';
import type { Subscription } from './transport.ts';

export type KafkaMessage = Message<string, string, string, string>;
export type KafkaStream = MessagesStream<string, string, string, string>;

/** Messages of one group delivered or waiting at once; past it the group's stream pauses. */
export const maxInFlightPerGroup = 256;

/**
 * How long a handled message's offset waits before it is committed, so that one commit request
 * covers what every partition of the group handled meanwhile (default of `commitDelayMs`).
 */
export const defaultCommitDelayMs = 500;

/** What a group's deliveries read from their group, which changes them as subscriptions join and streams restart. */
export interface GroupDeliveryOptions {
  group: string;
  logger: Logger;
  /** The group's subscriptions; one that joins later is pushed onto this same list. */
  subscriptions: readonly Subscription[];
  /** Types any subscription wants, kept up to date by the group. */
  types: ReadonlySet<string>;
  /** The stream the group reads now: messages of another (replaced, closed) are neither delivered nor committed. */
  currentStream: () => KafkaStream | undefined;
  /** Aborted when the transport closes. */
  stopping: AbortSignal;
  /**
   * How long a handled message's offset waits to be committed with the others of its group
   * (default `defaultCommitDelayMs`). A process that dies meanwhile has its group read those
   * messages again, which the inbox absorbs; a stream that closes commits them first.
   */
  commitDelayMs?: number;
}

/**
 * The deliveries of one consumer group: hands each subscription the messages of its types, in
 * batches per lane, and commits a message's offset only once every subscription has handled it.
 */
export class KafkaGroupDelivery {
  readonly #options: GroupDeliveryOptions;
  /**
   * The tail of each lane's delivery chain, one batch at a time per lane: a group whose
   * subscriptions all take batches has one lane for all its partitions (so a batch holds whatever
   * arrived on any of them), otherwise a lane per topic-partition (so partitions proceed concurrently).
   */
  readonly #lanes = new Map<string, Promise<void>>();
  /** Per lane, the batch waiting for the lane's turn, which messages arriving meanwhile join. */
  readonly #pending = new Map<string, KafkaMessage[]>();
  #inFlight = 0;
  /** Per topic-partition, the last handled message whose offset is not committed yet. */
  readonly #uncommitted = new Map<string, KafkaMessage>();
  #commitTimer: NodeJS.Timeout | undefined;

  constructor(options: GroupDeliveryOptions) {
    this.#options = options;
  }

  /** Messages received and not yet delivered or given up. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Waits for the deliveries in progress, at most `timeoutMs`; false if some are still running. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.#lanes.size > 0) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      const timeout = new AbortController();
      await Promise.race([Promise.allSettled(this.#lanes.values()), sleep(remaining, undefined, { signal: timeout.signal }).catch(() => undefined)]);
      timeout.abort();
    }
    return true;
  }

  /**
   * Queues a message behind the batch in progress on its lane: it joins the batch waiting for that
   * turn, or starts one. Lanes proceed independently; a batch is delivered at once. A batch keeps
   * each partition's messages in offset order, so per key the order holds.
   */
  dispatch(stream: KafkaStream, message: KafkaMessage): void {
    // Not delivered, so not committed: the next member of the group reads it again.
    if (this.#options.currentStream() !== stream || this.#isStopping()) return;
    const batches = this.#options.subscriptions.every((subscription) => subscription.deliverBatch !== undefined);
    const lane = batches ? 'batches' : `${message.topic}:${message.partition}`;
    this.#inFlight += 1;
    if (this.#inFlight >= maxInFlightPerGroup && !stream.isPaused()) stream.pause();
    const waiting = this.#pending.get(lane);
    if (waiting !== undefined) {
      waiting.push(message);
      return;
    }
    const batch = [message];
    this.#pending.set(lane, batch);
    const previous = this.#lanes.get(lane) ?? Promise.resolve();
    const next: Promise<void> = previous
      .then(() => {
        // From here on the batch is closed; what arrives now waits for the next turn.
        if (this.#pending.get(lane) === batch) this.#pending.delete(lane);
        return batches ? this.#processBatch(stream, batch) : this.#processInTurn(stream, batch);
      })
      .finally(() => {
        this.#inFlight -= batch.length;
        if (this.#lanes.get(lane) === next) this.#lanes.delete(lane);
        if (stream.isPaused() && this.#inFlight <= maxInFlightPerGroup / 2 && this.#options.currentStream() === stream) stream.resume();
      });
    this.#lanes.set(lane, next);
  }

  /**
   * Every subscription takes batches: each gets the batch's envelopes of its types at once, in
   * offset order per partition, all subscriptions concurrently (each has its own inbox); the
   * batch's offsets are committed once every one of them is done.
   */
  async #processBatch(stream: KafkaStream, messages: readonly KafkaMessage[]): Promise<void> {
    const envelopes = this.#envelopesOf(messages);
    const done = await Promise.all(this.#options.subscriptions.map((subscription) => {
      const mine = envelopes.filter((envelope) => subscription.types.includes(envelope.type));
      const deliverBatch = subscription.deliverBatch;
      if (mine.length === 0 || deliverBatch === undefined) return Promise.resolve(true);
      return this.#untilDelivered(stream, subscription, messages, () => deliverBatch(mine));
    }));
    if (done.every(Boolean)) this.#commit(messages);
  }

  /**
   * Some subscription takes single messages: one partition's messages one after another, each
   * delivered to every subscription of its type and committed after, stopping between two when
   * the stream goes.
   */
  async #processInTurn(stream: KafkaStream, messages: readonly KafkaMessage[]): Promise<void> {
    for (const message of messages) {
      const [envelope] = this.#envelopesOf([message]);
      for (const subscription of this.#options.subscriptions) {
        if (envelope === undefined || !subscription.types.includes(envelope.type)) continue;
        const delivered = await this.#untilDelivered(stream, subscription, [message], () =>
          subscription.deliverBatch === undefined ? subscription.deliver(envelope) : subscription.deliverBatch([envelope]));
        if (!delivered) return;
      }
      this.#commit([message]);
    }
  }

  /** The envelopes of the messages some subscription wants, in order; a message of another type (its header says) is not parsed. */
  #envelopesOf(messages: readonly KafkaMessage[]): Envelope[] {
    const { group, logger, types } = this.#options;
    const envelopes: Envelope[] = [];
    for (const message of messages) {
      const type = message.headers.get('type');
      if (type !== undefined && !types.has(type)) continue;
      const envelope = parseEnvelope(message.value);
      // Nothing can ever read it; holding the partition for it would stop every later message.
      if (envelope === undefined) logger.error({ group, topic: message.topic, partition: message.partition, offset: String(message.offset) }, 'kafka message is not an envelope; skipped');
      else if (types.has(envelope.type)) envelopes.push(envelope);
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
    stream: KafkaStream, subscription: Subscription, messages: readonly KafkaMessage[], deliver: () => Promise<void>,
  ): Promise<boolean> {
    for (let attempt = 1; ; attempt += 1) {
      if (this.#options.currentStream() !== stream || this.#isStopping()) return false;
      try {
        await deliver();
        return true;
      } catch (error) {
        const last = messages.at(-1);
        this.#options.logger.error({
          err: error, attempt, consumer: subscription.consumer, group: this.#options.group, messages: messages.length,
          ...(last === undefined ? {} : { topic: last.topic, partition: last.partition, offset: String(last.offset) }),
        }, 'kafka delivery failed; retrying before committing');
        await pauseUnlessStopping(Math.min(200 * 2 ** (attempt - 1), 10_000), this.#options.stopping);
      }
    }
  }

  /**
   * Marks each topic-partition's last offset among `messages` as handled; it is committed with the
   * group's others after the commit delay, or at once by `flushCommits`. At a few messages a second
   * per partition this makes one commit request per delay instead of one per message.
   */
  #commit(messages: readonly KafkaMessage[]): void {
    for (const message of messages) {
      const key = `${message.topic}:${message.partition}`;
      const previous = this.#uncommitted.get(key);
      if (previous === undefined || previous.offset < message.offset) this.#uncommitted.set(key, message);
    }
    if (this.#commitTimer !== undefined || this.#uncommitted.size === 0) return;
    this.#commitTimer = setTimeout(() => { this.flushCommits(); }, this.#options.commitDelayMs ?? defaultCommitDelayMs);
    this.#commitTimer.unref();
  }

  /** Commits the handled offsets still waiting (the client sends them in one request per flight). Before a stream closes. */
  flushCommits(): void {
    clearTimeout(this.#commitTimer);
    this.#commitTimer = undefined;
    const messages = [...this.#uncommitted.values()];
    this.#uncommitted.clear();
    for (const message of messages) {
      void message.commit((error?: Error) => {
        if (error) this.#options.logger.warn({ topic: message.topic, partition: message.partition, offset: String(message.offset), err: error }, 'kafka offset commit failed; the messages may be delivered again');
      });
    }
  }

  #isStopping(): boolean {
    return this.#options.stopping.aborted;
  }
}

/** Sleeps, waking early when `stopping` is aborted. */
export async function pauseUnlessStopping(ms: number, stopping: AbortSignal): Promise<void> {
  await sleep(ms, undefined, { signal: stopping }).catch(() => undefined);
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
