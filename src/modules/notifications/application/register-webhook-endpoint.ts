import { createWebhookEndpoint, type NewWebhookEndpoint, type WebhookEndpoint } from '../domain/webhook-endpoint.ts';
import type { WebhookEndpointRepository } from './ports.ts';

/** Registers an endpoint for signed order events, with a fresh signing secret. */
export class RegisterWebhookEndpoint {
  readonly #endpoints: WebhookEndpointRepository;
  readonly #newId: () => string;
  readonly #newSecret: () => string;
  readonly #now: () => Date;

  constructor(deps: { endpoints: WebhookEndpointRepository; newId?: () => string; newSecret?: () => string; now?: () => Date }) {
    this.#endpoints = deps.endpoints;
    this.#newId = deps.newId ?? (() => `whe_${crypto.randomUUID()}`);
    this.#newSecret = deps.newSecret ?? newSigningSecret;
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(input: NewWebhookEndpoint): Promise<WebhookEndpoint> {
    const endpoint = createWebhookEndpoint(input, this.#newId(), this.#newSecret(), this.#now());
    await this.#endpoints.add(endpoint);
    return endpoint;
  }
}

/** 256 random bits: as strong as the HMAC-SHA256 key it becomes. */
function newSigningSecret(): string {
  return `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')}`;
}
