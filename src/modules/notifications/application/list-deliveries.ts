import type { Channel, DeliveryStatus } from '../domain/delivery.ts';
import type { DeliveryRepository, DeliveryView, Page, PageCursor } from './ports.ts';

/** Lists the deliveries of one channel, oldest first, optionally of one status (`dead` ones are what an admin acts on) and of one order. */
export class ListDeliveries {
  readonly #deliveries: DeliveryRepository;
  readonly #channel: Channel;

  constructor(deps: { deliveries: DeliveryRepository; channel: Channel }) {
    this.#deliveries = deps.deliveries;
    this.#channel = deps.channel;
  }

  execute(input: { status?: DeliveryStatus; orderId?: string; after?: PageCursor; limit: number }): Promise<Page<DeliveryView>> {
    return this.#deliveries.listDeliveries(this.#channel, {
      ...(input.status === undefined ? {} : { status: input.status }),
      ...(input.orderId === undefined ? {} : { orderId: input.orderId }),
      ...(input.after === undefined ? {} : { after: input.after }),
      limit: input.limit,
    });
  }
}
