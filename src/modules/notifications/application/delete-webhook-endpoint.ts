import { WebhookEndpointNotFoundError } from '../domain/delivery.errors.ts';
import type { WebhookEndpointRepository } from './ports.ts';

/** Deletes an endpoint: it gets no new deliveries, and its pending and dead ones are cancelled. */
export class DeleteWebhookEndpoint {
  readonly #endpoints: WebhookEndpointRepository;
  readonly #now: () => Date;

  constructor(deps: { endpoints: WebhookEndpointRepository; now?: () => Date }) {
    this.#endpoints = deps.endpoints;
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(id: string): Promise<void> {
    if (!(await this.#endpoints.delete(id, this.#now()))) throw new WebhookEndpointNotFoundError(id);
  }
}
