import type { MessageTransport, OutgoingMessage, Subscription } from './transport.ts';

/**
 * Delivers each published message to every subscribed consumer in this process, in publish order,
 * before `publish` resolves. The relay marks rows sent only after that, so a crash mid-delivery
 * re-delivers (the inbox makes that harmless) and never loses a message.
 */
export class InProcessTransport implements MessageTransport {
  readonly #subscriptions: Subscription[] = [];

  subscribe(subscription: Subscription): void {
    if (this.#subscriptions.some((existing) => existing.consumer === subscription.consumer)) {
      throw new Error(`Consumer ${subscription.consumer} is already subscribed`);
    }
    this.#subscriptions.push(subscription);
  }

  async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    for (const { envelope } of messages) {
      for (const subscription of this.#subscriptions) {
        if (subscription.types.includes(envelope.type)) await subscription.deliver(envelope);
      }
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
