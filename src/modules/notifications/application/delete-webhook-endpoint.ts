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
    const deleted = await this.#endpoints.delete(id, this.#now(), { action: 'notifications.webhook-deleted', targetId: id, after: { deleted: true } });
    if (!deleted) throw new WebhookEndpointNotFoundError(id);
  }
}
