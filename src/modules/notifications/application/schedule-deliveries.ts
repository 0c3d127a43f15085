import { planDeliveries } from '../domain/delivery.ts';
import type { NotificationEvent } from '../domain/notification-event.ts';
import type { DeliveryRepository, WebhookEndpointRepository } from './ports.ts';

/**
 * Turns an order event into its deliveries (the customer email, one webhook per subscribed endpoint),
 * once: an event already recorded — redelivered, or announced again under another message id — adds nothing.
 */
export class ScheduleDeliveries {
  readonly #deliveries: Pick<DeliveryRepository, 'recordEvent' | 'addDeliveries'>;
  readonly #endpoints: Pick<WebhookEndpointRepository, 'listSubscribedTo'>;
  readonly #newId: () => string;
  readonly #now: () => Date;

  constructor(deps: {
    deliveries: Pick<DeliveryRepository, 'recordEvent' | 'addDeliveries'>;
    endpoints: Pick<WebhookEndpointRepository, 'listSubscribedTo'>;
    newId?: () => string;
    now?: () => Date;
  }) {
    this.#deliveries = deps.deliveries;
    this.#endpoints = deps.endpoints;
    this.#newId = deps.newId ?? (() => `dlv_${crypto.randomUUID()}`);
    this.#now = deps.now ?? (() => new Date());
  }

  /** Returns the number of deliveries scheduled. */
  async execute(event: NotificationEvent): Promise<number> {
    if (!(await this.#deliveries.recordEvent(event))) return 0;
    const endpoints = await this.#endpoints.listSubscribedTo(event.type);
    const deliveries = planDeliveries(event, endpoints, this.#newId, this.#now());
    await this.#deliveries.addDeliveries(deliveries);
    return deliveries.length;
  }
}
