import type { Envelope } from './envelope.ts';
import type { MessageTransport, OutgoingMessage, Subscription } from './transport.ts';

/**
 * Delivers each published message to every subscribed consumer in this process before `publish`
 * resolves. The relay marks rows sent only after that, so a crash mid-delivery re-delivers (the
 * inbox makes that harmless) and never loses a message. Messages with the same key are delivered
 * one after another in publish order; different keys are delivered concurrently, up to
 * `concurrency` at a time, as a partitioned broker would.
 */
export class InProcessTransport implements MessageTransport {
  readonly #subscriptions: Subscription[] = [];
  readonly #concurrency: number;

  constructor(options: { concurrency?: number } = {}) {
    this.#concurrency = Math.max(1, options.concurrency ?? 4);
  }

  subscribe(subscription: Subscription): void {
    if (this.#subscriptions.some((existing) => existing.consumer === subscription.consumer)) {
      throw new Error(`Consumer ${subscription.consumer} is already subscribed`);
    }
    this.#subscriptions.push(subscription);
  }

  async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    const byKey = new Map<string, Envelope[]>();
    for (const { envelope } of messages) {
      const lane = byKey.get(envelope.key);
      if (lane === undefined) byKey.set(envelope.key, [envelope]);
      else lane.push(envelope);
    }
    const lanes = [...byKey.values()];
    const workers = Array.from({ length: Math.min(this.#concurrency, lanes.length) }, async () => {
      for (let lane = lanes.shift(); lane !== undefined; lane = lanes.shift()) {
        for (const envelope of lane) await this.#deliver(envelope);
      }
    });
    await Promise.all(workers);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  async #deliver(envelope: Envelope): Promise<void> {
    for (const subscription of this.#subscriptions) {
      if (subscription.types.includes(envelope.type)) await subscription.deliver(envelope);
    }
  }
}
