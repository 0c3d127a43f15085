import { DeliveryNotDeadError, DeliveryNotFoundError } from '../domain/delivery.errors.ts';
import { reviveDelivery } from '../domain/delivery.ts';
import type { DeliveryRepository, WebhookDeliveryView } from './ports.ts';

/** Puts a dead webhook delivery back in the queue with a fresh set of attempts, and wakes the worker. */
export class RetryWebhookDelivery {
  readonly #deliveries: DeliveryRepository;
  readonly #wakeWorker: () => void;
  readonly #now: () => Date;

  constructor(deps: { deliveries: DeliveryRepository; wakeWorker: () => void; now?: () => Date }) {
    this.#deliveries = deps.deliveries;
    this.#wakeWorker = deps.wakeWorker;
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(id: string): Promise<WebhookDeliveryView> {
    const found = await this.#deliveries.findWebhookDelivery(id);
    if (found === undefined) throw new DeliveryNotFoundError(id);
    const revived = reviveDelivery(found.delivery, this.#now());
    // Another admin (or the endpoint's deletion) got there between the read and the write.
    if (!(await this.#deliveries.revive(revived, found.delivery.status))) throw new DeliveryNotDeadError(id, 'no longer dead');
    this.#wakeWorker();
    return { ...found, delivery: revived };
  }
}
