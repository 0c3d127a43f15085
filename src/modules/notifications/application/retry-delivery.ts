import { DeliveryNotDeadError, DeliveryNotFoundError } from '../domain/delivery.errors.ts';
import { reviveDelivery, type Channel } from '../domain/delivery.ts';
import type { DeliveryRepository, DeliveryView } from './ports.ts';

/** Puts a dead delivery of one channel back in the queue with a fresh set of attempts, and wakes the worker. */
export class RetryDelivery {
  readonly #deliveries: DeliveryRepository;
  readonly #channel: Channel;
  readonly #wakeWorker: () => void;
  readonly #now: () => Date;

  constructor(deps: { deliveries: DeliveryRepository; channel: Channel; wakeWorker: () => void; now?: () => Date }) {
    this.#deliveries = deps.deliveries;
    this.#channel = deps.channel;
    this.#wakeWorker = deps.wakeWorker;
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(id: string): Promise<DeliveryView> {
    const found = await this.#deliveries.findDelivery(this.#channel, id);
    if (found === undefined) throw new DeliveryNotFoundError(this.#channel, id);
    const revived = reviveDelivery(found.delivery, this.#now());
    // Another admin (or, for a webhook, the endpoint's deletion) got there between the read and the write.
    const act = {
      action: `notifications.${this.#channel}-delivery-retried`, targetId: id,
      before: { status: found.delivery.status, attempts: found.delivery.attempts }, after: { status: revived.status, attempts: revived.attempts },
    };
    if (!(await this.#deliveries.revive(revived, found.delivery.status, act))) throw new DeliveryNotDeadError(this.#channel, id, 'no longer dead');
    this.#wakeWorker();
    return { ...found, delivery: revived };
  }
}
