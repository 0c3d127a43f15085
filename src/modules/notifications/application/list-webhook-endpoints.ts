import type { WebhookEndpoint } from '../domain/webhook-endpoint.ts';
import { decodeCursor, encodeCursor } from './page-cursor.ts';
import type { WebhookEndpointRepository } from './ports.ts';

/** Lists the registered endpoints in registration order, one cursor page at a time. */
export class ListWebhookEndpoints {
  readonly #endpoints: WebhookEndpointRepository;

  constructor(deps: { endpoints: WebhookEndpointRepository }) {
    this.#endpoints = deps.endpoints;
  }

  async execute(input: { cursor?: string; limit: number }): Promise<{ items: WebhookEndpoint[]; nextCursor: string | null }> {
    const after = input.cursor === undefined ? undefined : decodeCursor(input.cursor);
    const page = await this.#endpoints.list({ ...(after === undefined ? {} : { after }), limit: input.limit });
    return { items: page.items, nextCursor: page.next === null ? null : encodeCursor(page.next) };
  }
}
