import type { WebhookEventStore } from './ports.ts';

/** A provider event whose signature the inbound adapter has verified. */
export interface VerifiedWebhookEvent {
  provider: 'stripe';
  eventId: string;
  type: string;
  payload: unknown;
}

/** Keeps a verified provider webhook event; a resent event is recorded once. */
export class RecordWebhookEvent {
  readonly #events: WebhookEventStore;

  constructor(deps: { events: WebhookEventStore }) {
    this.#events = deps.events;
  }

  async execute(event: VerifiedWebhookEvent): Promise<'recorded' | 'duplicate'> {
    return (await this.#events.record(event)) ? 'recorded' : 'duplicate';
  }
}
