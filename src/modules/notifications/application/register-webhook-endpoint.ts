import { InvalidWebhookEndpointError } from '../domain/delivery.errors.ts';
import { createWebhookEndpoint, type NewWebhookEndpoint, type WebhookEndpoint } from '../domain/webhook-endpoint.ts';
import type { WebhookDestinationPolicy, WebhookEndpointRepository } from './ports.ts';

/**
 * Registers an endpoint for signed order events, with a fresh signing secret. A URL whose host is
 * not an allowed destination is refused with one generic reason, whichever rule it broke, so the
 * answer does not map the internal network.
 */
export class RegisterWebhookEndpoint {
  readonly #endpoints: WebhookEndpointRepository;
  readonly #destinations: WebhookDestinationPolicy;
  readonly #newId: () => string;
  readonly #newSecret: () => string;
  readonly #now: () => Date;

  constructor(deps: { endpoints: WebhookEndpointRepository; destinations: WebhookDestinationPolicy; newId?: () => string; newSecret?: () => string; now?: () => Date }) {
    this.#endpoints = deps.endpoints;
    this.#destinations = deps.destinations;
    this.#newId = deps.newId ?? (() => `whe_${crypto.randomUUID()}`);
    this.#newSecret = deps.newSecret ?? newSigningSecret;
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(input: NewWebhookEndpoint): Promise<WebhookEndpoint> {
    const endpoint = createWebhookEndpoint(input, this.#newId(), this.#newSecret(), this.#now());
    if (!(await this.#destinations.allows(endpoint.url))) throw new InvalidWebhookEndpointError('url', 'is not an allowed webhook destination');
    // The secret is the endpoint's to know; the audit trail keeps where deliveries go and what they carry.
    await this.#endpoints.add(endpoint, { action: 'notifications.webhook-registered', targetId: endpoint.id, after: { url: endpoint.url, events: endpoint.events } });
    return endpoint;
  }
}

/** 256 random bits: as strong as the HMAC-SHA256 key it becomes. */
export function newSigningSecret(): string {
  return `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')}`;
}
