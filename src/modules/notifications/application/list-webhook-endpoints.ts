import type { WebhookEndpoint } from '../domain/webhook-endpoint.ts';
import type { Page, PageCursor, WebhookEndpointRepository } from './ports.ts';

/** Lists the registered endpoints in registration order, one page at a time after a position. */
export class ListWebhookEndpoints {
  readonly #endpoints: WebhookEndpointRepository;

  constructor(deps: { endpoints: WebhookEndpointRepository }) {
    this.#endpoints = deps.endpoints;
  }

  execute(input: { after?: PageCursor; limit: number }): Promise<Page<WebhookEndpoint>> {
    return this.#endpoints.list({ ...(input.after === undefined ? {} : { after: input.after }), limit: input.limit });
  }
}
