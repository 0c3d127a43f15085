import type { NotificationDeliveredV1, NotificationFailedV1, notificationsEvents } from '../contract.ts';
import type { Channel, Delivery, DeliveryStatus } from '../domain/delivery.ts';
import type { EmailContent } from '../domain/email-templates.ts';
import type { NotificationEvent, NotifiedEventType } from '../domain/notification-event.ts';
import type { WebhookEndpoint } from '../domain/webhook-endpoint.ts';

/** Position after the last item of a page, in (createdAt, id) order. */
export interface PageCursor {
  createdAt: Date;
  id: string;
}

export interface Page<Item> {
  items: Item[];
  next: PageCursor | null;
}

/** A delivery taken for one attempt; `leaseToken` proves the taker still holds it when it records the outcome. */
export interface ClaimedDelivery {
  delivery: Delivery;
  leaseToken: string;
  event: NotificationEvent;
  /** The endpoint of a webhook delivery; null for an email. */
  endpoint: WebhookEndpoint | null;
  /** Trace context (W3C traceparent) of the work that recorded the event, for the send's span; opaque here. */
  traceparent?: string;
}

/** The integration event an attempt's outcome announces, written with it. */
export type DeliveryAnnouncement =
  | { type: typeof notificationsEvents.delivered.type; payload: NotificationDeliveredV1 }
  | { type: typeof notificationsEvents.failed.type; payload: NotificationFailedV1 };

/** A delivery as an admin sees it, with the event it carries. */
export interface DeliveryView {
  delivery: Delivery;
  eventType: NotifiedEventType;
  orderId: string;
}

/**
 * Stores notification events and their deliveries. Used inside the transaction of the message that
 * caused them (scheduling) or on its own (the worker and the admin API); each write that changes a
 * delivery's outcome commits with the event announcing it.
 */
export interface DeliveryRepository {
  /**
   * Records an event; false when it is known already — the same event id, or the same event type
   * for the same order under another message id — in which case nothing is written.
   */
  recordEvent(event: NotificationEvent): Promise<boolean>;
  /** Adds deliveries; one that repeats an (event, channel, recipient) already stored is skipped. */
  addDeliveries(deliveries: readonly Delivery[]): Promise<void>;
  /**
   * Takes up to `limit` pending deliveries due at `now` for one attempt each: counts the attempt and
   * hides them from other takers until `leaseUntil`, so one whose sender crashed comes due again then.
   */
  claimDue(options: { now: Date; leaseUntil: Date; limit: number }): Promise<ClaimedDelivery[]>;
  /**
   * Stores the outcome of a claimed attempt and its announcement in one transaction, and ends the
   * lease; false (nothing written) when the lease was lost to another taker or the delivery was cancelled.
   */
  recordAttempt(leaseToken: string, delivery: Delivery, announcement: DeliveryAnnouncement | null): Promise<boolean>;
  findDelivery(channel: Channel, id: string): Promise<DeliveryView | undefined>;
  /** A channel's deliveries oldest first, optionally only of one status and of one order's events. */
  listDeliveries(channel: Channel, query: { status?: DeliveryStatus; orderId?: string; after?: PageCursor; limit: number }): Promise<Page<DeliveryView>>;
  /** Stores a revived delivery unless its status changed since it was read (then false). */
  revive(delivery: Delivery, previousStatus: DeliveryStatus, act?: AdminAct): Promise<boolean>;
}

/** Webhook endpoints registered by admins. A deleted endpoint is gone for every purpose. */
/**
 * An administrative act on notifications' data, as the audit trail keeps it (src/platform/audit):
 * recorded by the store in the transaction of the write that performs it. Never holds a secret.
 */
export interface AdminAct {
  action: string;
  targetId: string;
  before?: unknown;
  after?: unknown;
}

export interface WebhookEndpointRepository {
  /** With `act`, the registration is recorded in the audit trail in the same transaction. */
  add(endpoint: WebhookEndpoint, act?: AdminAct): Promise<void>;
  list(query: { after?: PageCursor; limit: number }): Promise<Page<WebhookEndpoint>>;
  /** Endpoints subscribed to `type`. */
  listSubscribedTo(type: NotifiedEventType): Promise<WebhookEndpoint[]>;
  /**
   * Deletes an endpoint and cancels its deliveries that are pending or dead; false when there is no
   * such endpoint. With `act`, a deletion made is recorded in the audit trail in the same transaction.
   */
  delete(id: string, now: Date, act?: AdminAct): Promise<boolean>;
  /**
   * With the endpoint locked, stores `roll(endpoint)` as its secrets (and `act` in the audit trail, in
   * the same transaction); answers the endpoint as stored, undefined when there is no such endpoint.
   */
  rollSecret(id: string, roll: (endpoint: WebhookEndpoint) => WebhookEndpoint, act?: AdminAct): Promise<WebhookEndpoint | undefined>;
}

/** Sends one email; resolves once the mail server (or the outbox folder) accepted it, throws otherwise. */
export interface EmailSender {
  send(message: EmailContent & { deliveryId: string; to: string }): Promise<void>;
}

/** The JSON body of every webhook request. */
export interface WebhookBody {
  id: string;
  type: string;
  occurredAt: string;
  data: Readonly<Record<string, unknown>>;
}

/**
 * Decides whether a webhook URL may be registered: refuses hosts that are, or resolve to, addresses
 * deliveries must not reach (loopback, private, link-local and other internal ranges).
 */
export interface WebhookDestinationPolicy {
  allows(url: string): Promise<boolean>;
}

/**
 * Posts one signed webhook; resolves on a 2xx answer, throws on any other answer, a refused
 * destination, a network error or a timeout. The error's message, which admins see as the
 * delivery's `lastError`, names only the class of failure (`answered 5xx`, `connection failed`).
 */
export interface WebhookSender {
  /** `secrets`: the endpoint's signing secrets now, current first (two during a roll's overlap); each signs a `v1=` entry. */
  send(request: { url: string; secrets: readonly string[]; body: WebhookBody }): Promise<void>;
}

/** Where the worker reports what went wrong; the platform logger fits. */
export interface DeliveryLog {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}
