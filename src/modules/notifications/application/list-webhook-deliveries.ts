import type { DeliveryStatus } from '../domain/delivery.ts';
import type { DeliveryRepository, Page, PageCursor, WebhookDeliveryView } from './ports.ts';

/** Lists webhook deliveries, oldest first, optionally of one status (`dead` ones are what an admin acts on). */
export class ListWebhookDeliveries {
  readonly #deliveries: DeliveryRepository;

  constructor(deps: { deliveries: DeliveryRepository }) {
    this.#deliveries = deps.deliveries;
  }

  execute(input: { status?: DeliveryStatus; after?: PageCursor; limit: number }): Promise<Page<WebhookDeliveryView>> {
    return this.#deliveries.listWebhookDeliveries({
      ...(input.status === undefined ? {} : { status: input.status }),
      ...(input.after === undefined ? {} : { after: input.after }),
      limit: input.limit,
    });
  }
}
