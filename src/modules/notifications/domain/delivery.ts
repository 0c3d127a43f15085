import { backoffDelayMs } from '../../../kernel/backoff.ts';
import { DeliveryNotDeadError } from './delivery.errors.ts';
import type { NotificationEvent } from './notification-event.ts';
import { subscribesTo, type WebhookEndpoint } from './webhook-endpoint.ts';

export type Channel = 'email' | 'webhook';

/**
 * `pending` waits for its next attempt (or is being sent under a lease); `sent` and `dead` are
 * outcomes; `cancelled` means its webhook endpoint was deleted before it could be sent.
 */
export type DeliveryStatus = 'pending' | 'sent' | 'dead' | 'cancelled';

/**
 * One notification of one event to one recipient over one channel. There is never a second
 * delivery for the same event, channel and recipient: that is what makes a notification go out once.
 */
export interface Delivery {
  readonly id: string;
  readonly eventId: string;
  readonly channel: Channel;
  /** The email address, or the webhook endpoint's id. */
  readonly recipient: string;
  readonly status: DeliveryStatus;
  /** Attempts started so far, counting one that is under way. */
  readonly attempts: number;
  readonly nextAttemptAt: Date;
  readonly lastError: string | null;
  readonly createdAt: Date;
  readonly sentAt: Date | null;
}

/** How often, and how patiently, a failing delivery is tried again. */
export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
}

/** The deliveries an event causes: an email to the customer, and a webhook to each endpoint subscribed to its type. */
export function planDeliveries(event: NotificationEvent, endpoints: readonly WebhookEndpoint[], newId: () => string, now: Date): Delivery[] {
  const planned = (channel: Channel, recipient: string): Delivery => ({
    id: newId(), eventId: event.id, channel, recipient, status: 'pending', attempts: 0,
    nextAttemptAt: now, lastError: null, createdAt: now, sentAt: null,
  });
  return [
    planned('email', event.notice.customerEmail),
    ...endpoints.filter((endpoint) => subscribesTo(endpoint, event.type)).map((endpoint) => planned('webhook', endpoint.id)),
  ];
}

/** The shared backoff with jitter: after attempt n, wait between half and all of base × 2^(n−1). */
export function retryDelayMs(policy: RetryPolicy, attempt: number, random: () => number): number {
  return backoffDelayMs(policy, attempt, random);
}

/** The attempt under way succeeded. */
export function deliverySent(delivery: Delivery, now: Date): Delivery {
  return { ...delivery, status: 'sent', sentAt: now, nextAttemptAt: now };
}

/** The attempt under way failed: try again after a backoff, or, after the last attempt, give up (dead). */
export function deliveryFailed(delivery: Delivery, reason: string, policy: RetryPolicy, now: Date, random: () => number): Delivery {
  const lastError = reason.slice(0, 2000);
  if (delivery.attempts >= policy.maxAttempts) return { ...delivery, status: 'dead', lastError, nextAttemptAt: now };
  return { ...delivery, status: 'pending', lastError, nextAttemptAt: new Date(now.getTime() + retryDelayMs(policy, delivery.attempts, random)) };
}

/** An admin gives a dead delivery a fresh set of attempts, the first one due now. */
export function reviveDelivery(delivery: Delivery, now: Date): Delivery {
  if (delivery.status !== 'dead') throw new DeliveryNotDeadError(delivery.channel, delivery.id, delivery.status);
  return { ...delivery, status: 'pending', attempts: 0, nextAttemptAt: now };
}
