import type {
  ClaimedDelivery, DeliveryAnnouncement, DeliveryRepository, Page, PageCursor, DeliveryView, WebhookEndpointRepository,
} from '../application/ports.ts';
import type { Channel, Delivery, DeliveryStatus } from '../domain/delivery.ts';
import type { NotificationEvent } from '../domain/notification-event.ts';
import type { WebhookEndpoint } from '../domain/webhook-endpoint.ts';

/** DeliveryRepository in memory, for use-case tests; `announced` holds the events commits would emit. */
export class InMemoryDeliveryRepository implements DeliveryRepository {
  readonly events = new Map<string, NotificationEvent>();
  readonly deliveries = new Map<string, Delivery>();
  readonly leases = new Map<string, string>();
  readonly announced: DeliveryAnnouncement[] = [];
  readonly #endpoints: InMemoryWebhookEndpointRepository;
  #leaseSequence = 0;

  constructor(endpoints: InMemoryWebhookEndpointRepository) {
    this.#endpoints = endpoints;
  }

  recordEvent(event: NotificationEvent): Promise<boolean> {
    const known = [...this.events.values()].some((existing) => existing.id === event.id || (existing.orderId === event.orderId && existing.type === event.type));
    if (!known) this.events.set(event.id, event);
    return Promise.resolve(!known);
  }

  addDeliveries(deliveries: readonly Delivery[]): Promise<void> {
    for (const delivery of deliveries) {
      const repeated = [...this.deliveries.values()].some((existing) =>
        existing.eventId === delivery.eventId && existing.channel === delivery.channel && existing.recipient === delivery.recipient);
      if (!repeated) this.deliveries.set(delivery.id, delivery);
    }
    return Promise.resolve();
  }

  claimDue(options: { now: Date; leaseUntil: Date; limit: number }): Promise<ClaimedDelivery[]> {
    const due = [...this.deliveries.values()]
      .filter((delivery) => delivery.status === 'pending' && delivery.nextAttemptAt <= options.now)
      .sort((a, b) => a.nextAttemptAt.getTime() - b.nextAttemptAt.getTime())
      .slice(0, options.limit);
    this.#leaseSequence += 1;
    const leaseToken = `lease-${this.#leaseSequence}`;
    return Promise.resolve(due.map((found) => {
      const delivery = { ...found, attempts: found.attempts + 1, nextAttemptAt: options.leaseUntil };
      this.deliveries.set(delivery.id, delivery);
      this.leases.set(delivery.id, leaseToken);
      const event = this.events.get(delivery.eventId);
      if (event === undefined) throw new Error(`delivery ${delivery.id} has no event`);
      const endpoint = delivery.channel === 'webhook' ? this.#endpoints.endpoints.get(delivery.recipient) ?? null : null;
      return { delivery, leaseToken, event, endpoint };
    }));
  }

  recordAttempt(leaseToken: string, delivery: Delivery, announcement: DeliveryAnnouncement | null): Promise<boolean> {
    if (this.leases.get(delivery.id) !== leaseToken || this.deliveries.get(delivery.id)?.status !== 'pending') return Promise.resolve(false);
    this.leases.delete(delivery.id);
    this.deliveries.set(delivery.id, delivery);
    if (announcement !== null) this.announced.push(announcement);
    return Promise.resolve(true);
  }

  findDelivery(channel: Channel, id: string): Promise<DeliveryView | undefined> {
    const delivery = this.deliveries.get(id);
    return Promise.resolve(delivery?.channel === channel ? this.#view(delivery) : undefined);
  }

  listDeliveries(channel: Channel, query: { status?: DeliveryStatus; orderId?: string; after?: PageCursor; limit: number }): Promise<Page<DeliveryView>> {
    const after = query.after;
    const matching = [...this.deliveries.values()]
      .filter((delivery) => delivery.channel === channel && (query.status === undefined || delivery.status === query.status))
      .filter((delivery) => query.orderId === undefined || this.events.get(delivery.eventId)?.orderId === query.orderId)
      .sort(compareCreation)
      .filter((delivery) => after === undefined || compareCreation(delivery, after) > 0);
    const items = matching.slice(0, query.limit);
    const last = items.at(-1);
    return Promise.resolve({ items: items.map((delivery) => this.#view(delivery)), next: matching.length > query.limit && last !== undefined ? { createdAt: last.createdAt, id: last.id } : null });
  }

  revive(delivery: Delivery, previousStatus: DeliveryStatus): Promise<boolean> {
    if (this.deliveries.get(delivery.id)?.status !== previousStatus) return Promise.resolve(false);
    this.deliveries.set(delivery.id, delivery);
    this.leases.delete(delivery.id);
    return Promise.resolve(true);
  }

  /** Cancels an endpoint's unsent deliveries, as deleting it does in PostgreSQL. */
  cancelDeliveriesTo(endpointId: string): void {
    for (const delivery of this.deliveries.values()) {
      if (delivery.recipient === endpointId && (delivery.status === 'pending' || delivery.status === 'dead')) {
        this.deliveries.set(delivery.id, { ...delivery, status: 'cancelled' });
      }
    }
  }

  #view(delivery: Delivery): DeliveryView {
    const event = this.events.get(delivery.eventId);
    if (event === undefined) throw new Error(`delivery ${delivery.id} has no event`);
    return { delivery, eventType: event.type, orderId: event.orderId };
  }
}

/** WebhookEndpointRepository in memory; deleting an endpoint cancels deliveries in `deliveries` once wired. */
export class InMemoryWebhookEndpointRepository implements WebhookEndpointRepository {
  readonly endpoints = new Map<string, WebhookEndpoint>();
  onDelete: (endpointId: string) => void = () => undefined;

  add(endpoint: WebhookEndpoint): Promise<void> {
    this.endpoints.set(endpoint.id, endpoint);
    return Promise.resolve();
  }

  list(query: { after?: PageCursor; limit: number }): Promise<Page<WebhookEndpoint>> {
    const after = query.after;
    const matching = [...this.endpoints.values()].sort(compareCreation).filter((endpoint) => after === undefined || compareCreation(endpoint, after) > 0);
    const items = matching.slice(0, query.limit);
    const last = items.at(-1);
    return Promise.resolve({ items, next: matching.length > query.limit && last !== undefined ? { createdAt: last.createdAt, id: last.id } : null });
  }

  listSubscribedTo(type: WebhookEndpoint['events'][number]): Promise<WebhookEndpoint[]> {
    return Promise.resolve([...this.endpoints.values()].filter((endpoint) => endpoint.events.includes(type)).sort(compareCreation));
  }

  delete(id: string): Promise<boolean> {
    const existed = this.endpoints.delete(id);
    if (existed) this.onDelete(id);
    return Promise.resolve(existed);
  }

  rollSecret(id: string, roll: (endpoint: WebhookEndpoint) => WebhookEndpoint): Promise<WebhookEndpoint | undefined> {
    const endpoint = this.endpoints.get(id);
    if (endpoint === undefined) return Promise.resolve(undefined);
    const rolled = roll(endpoint);
    this.endpoints.set(id, rolled);
    return Promise.resolve(rolled);
  }
}

/** Both repositories, wired so that deleting an endpoint cancels its deliveries. */
export function inMemoryNotificationStores(): { deliveries: InMemoryDeliveryRepository; endpoints: InMemoryWebhookEndpointRepository } {
  const endpoints = new InMemoryWebhookEndpointRepository();
  const deliveries = new InMemoryDeliveryRepository(endpoints);
  endpoints.onDelete = (endpointId) => { deliveries.cancelDeliveriesTo(endpointId); };
  return { deliveries, endpoints };
}

function compareCreation(a: { createdAt: Date; id: string }, b: { createdAt: Date; id: string }): number {
  return a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
