import type { DeliveryStatus } from '../domain/delivery.ts';
import { decodeCursor, encodeCursor } from './page-cursor.ts';
import type { DeliveryRepository, WebhookDeliveryView } from './ports.ts';

/** Lists webhook deliveries, oldest first, optionally of one status (`dead` ones are what an admin acts on). */
export class ListWebhookDeliveries {
  readonly #deliveries: DeliveryRepository;

  constructor(deps: { deliveries: DeliveryRepository }) {
    this.#deliveries = deps.deliveries;
  }

  async execute(input: { status?: DeliveryStatus; cursor?: string; limit: number }): Promise<{ items: WebhookDeliveryView[]; nextCursor: string | null }> {
    const after = input.cursor === undefined ? undefined : decodeCursor(input.cursor);
    const page = await this.#deliveries.listWebhookDeliveries({
      ...(input.status === undefined ? {} : { status: input.status }),
      ...(after === undefined ? {} : { after }),
      limit: input.limit,
    });
    return { items: page.items, nextCursor: page.next === null ? null : encodeCursor(page.next) };
  }
}
