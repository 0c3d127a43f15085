import type { Envelope } from './envelope.ts';
import type { MessageTransport, OutgoingMessage, Subscription } from './transport.ts';

/**
 * Delivers each published message to every subscribed consumer in this process before `publish`
 * resolves. The relay marks rows sent only after that, so a crash mid-delivery re-delivers (the
 * inbox makes that harmless) and never loses a message.
 *
 * A consumer that takes batches (`deliverBatch`) has a queue of its own: `publish` appends the
 * messages it wants, and the consumer takes everything queued as one batch whenever its previous
 * batch is done, so a slow consumer delays only itself and batches grow with the load. Queues keep
 * publish order, so per key the order holds across publishes in flight at once. A batch that
 * fails (a full pool: the consumer records every other failure itself) is tried again in place,
 * for up to `batchRetryMs`; past that the consumer gives up on it and on everything queued, and
 * refuses what is published to it until no publish is outstanding, so what it gave up on is
 * published again before anything after it.
 *
 * A consumer that takes one message at a time gets messages with the same key one after another
 * in publish order, and different keys concurrently, up to `concurrency` at a time, as a
 * partitioned broker would.
 */
export class InProcessTransport implements MessageTransport {
  readonly #subscriptions: Subscription[] = [];
  readonly #queues = new Map<string, ConsumerQueue>();
  readonly #concurrency: number;
  readonly #batchRetryMs: number;
  #outstanding = 0;

  constructor(options: { concurrency?: number; batchRetryMs?: number } = {}) {
    this.#concurrency = Math.max(1, options.concurrency ?? 4);
    this.#batchRetryMs = options.batchRetryMs ?? 10_000;
  }

  subscribe(subscription: Subscription): void {
    if (this.#subscriptions.some((existing) => existing.consumer === subscription.consumer)) {
      throw new Error(`Consumer ${subscription.consumer} is already subscribed`);
    }
    this.#subscriptions.push(subscription);
    if (subscription.deliverBatch !== undefined) {
      this.#queues.set(subscription.consumer, new ConsumerQueue(subscription.deliverBatch, this.#batchRetryMs, () => this.#outstanding <= 1));
    }
  }

  async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    const envelopes = messages.map((message) => message.envelope);
    this.#outstanding += 1;
    try {
      const queued: Promise<void>[] = [];
      for (const subscription of this.#subscriptions) {
        const queue = this.#queues.get(subscription.consumer);
        if (queue === undefined) continue;
        const wanted = envelopes.filter((envelope) => subscription.types.includes(envelope.type));
        if (wanted.length > 0) queued.push(queue.enqueue(wanted));
      }
      queued.push(this.#deliverByKey(envelopes));
      const failed = (await Promise.allSettled(queued)).find((result) => result.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
    } finally {
      this.#outstanding -= 1;
    }
  }

  close(): Promise<void> {
    for (const queue of this.#queues.values()) queue.close();
    return Promise.resolve();
  }

  async #deliverByKey(envelopes: readonly Envelope[]): Promise<void> {
    const singles = this.#subscriptions.filter((subscription) => subscription.deliverBatch === undefined);
    if (singles.length === 0) return;
    const byKey = new Map<string, Envelope[]>();
    for (const envelope of envelopes) {
      const lane = byKey.get(envelope.key);
      if (lane === undefined) byKey.set(envelope.key, [envelope]);
      else lane.push(envelope);
    }
    const lanes = [...byKey.values()];
    const workers = Array.from({ length: Math.min(this.#concurrency, lanes.length) }, async () => {
      for (let lane = lanes.shift(); lane !== undefined; lane = lanes.shift()) {
        for (const envelope of lane) {
          for (const subscription of singles) {
            if (subscription.types.includes(envelope.type)) await subscription.deliver(envelope);
          }
        }
      }
    });
    await Promise.all(workers);
  }
}

interface Queued {
  envelopes: readonly Envelope[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** One batch consumer's messages waiting their turn, in publish order. */
class ConsumerQueue {
  readonly #deliverBatch: (envelopes: readonly Envelope[]) => Promise<void>;
  readonly #retryMs: number;
  /** True when the publish calling `enqueue` is the only one in progress. */
  readonly #onlyThisPublishOutstanding: () => boolean;
  readonly #waiting: Queued[] = [];
  #running = false;
  /** Set when a batch was given up on: what is published now would overtake it. */
  #refusing: Error | undefined;
  #closed = false;

  constructor(deliverBatch: (envelopes: readonly Envelope[]) => Promise<void>, retryMs: number, onlyThisPublishOutstanding: () => boolean) {
    this.#deliverBatch = deliverBatch;
    this.#retryMs = retryMs;
    this.#onlyThisPublishOutstanding = onlyThisPublishOutstanding;
  }

  enqueue(envelopes: readonly Envelope[]): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('the transport is closed'));
    // Only publishes that started after every earlier one settled come after the given-up batch again.
    if (this.#refusing !== undefined && this.#onlyThisPublishOutstanding()) this.#refusing = undefined;
    if (this.#refusing !== undefined) return Promise.reject(this.#refusing);
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({ envelopes, resolve, reject });
      if (!this.#running) void this.#drain();
    });
  }

  close(): void {
    this.#closed = true;
    this.#giveUp(new Error('the transport is closed'), this.#waiting.splice(0));
  }


  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#waiting.length > 0 && !this.#closed) {
        const batch = this.#waiting.splice(0);
        const envelopes = batch.flatMap((queued) => queued.envelopes);
        const error = await this.#deliverPatiently(envelopes);
        if (error === undefined) {
          for (const queued of batch) queued.resolve();
        } else {
          this.#refusing = error instanceof Error ? error : new Error('a batch could not be delivered', { cause: error });
          this.#giveUp(this.#refusing, [...batch, ...this.#waiting.splice(0)]);
        }
      }
    } finally {
      this.#running = false;
    }
  }

  /** Delivers, trying again with growing pauses until `retryMs` has passed; the last error if it never succeeded. */
  async #deliverPatiently(envelopes: readonly Envelope[]): Promise<unknown> {
    const deadline = performance.now() + this.#retryMs;
    for (let pauseMs = 50; ; pauseMs = Math.min(pauseMs * 2, 1000)) {
      try {
        await this.#deliverBatch(envelopes);
        return undefined;
      } catch (error) {
        if (this.#closed || performance.now() + pauseMs > deadline) return error;
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    }
  }

  #giveUp(error: unknown, queued: readonly Queued[]): void {
    for (const item of queued) item.reject(error);
  }
}
