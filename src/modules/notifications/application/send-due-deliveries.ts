import { notificationsEvents } from '../contract.ts';
import { deliveryFailed, deliverySent, type Delivery, type RetryPolicy } from '../domain/delivery.ts';
import { renderEmail } from '../domain/email-templates.ts';
import { signingSecrets } from '../domain/webhook-endpoint.ts';
import type { ClaimedDelivery, DeliveryAnnouncement, DeliveryLog, DeliveryRepository, EmailSender, WebhookSender } from './ports.ts';

/**
 * The worker's step: takes the deliveries that are due, sends each (outside any transaction), and
 * records every outcome. Success announces `notifications.delivered`; a failure is retried with
 * backoff and, after the last attempt, the delivery is dead and `notifications.failed` is announced.
 */
export class SendDueDeliveries {
  readonly #deliveries: DeliveryRepository;
  readonly #email: EmailSender;
  readonly #webhooks: WebhookSender;
  readonly #policy: RetryPolicy;
  readonly #leaseMs: number;
  readonly #batchSize: number;
  readonly #log: DeliveryLog;
  readonly #now: () => Date;
  readonly #random: () => number;
  readonly #around: (claim: ClaimedDelivery, attempt: () => Promise<void>) => Promise<void>;

  constructor(deps: {
    deliveries: DeliveryRepository;
    email: EmailSender;
    webhooks: WebhookSender;
    policy: RetryPolicy;
    /** How long a taken delivery stays hidden from other workers; longer than any send may take. */
    leaseMs: number;
    batchSize?: number;
    log: DeliveryLog;
    now?: () => Date;
    random?: () => number;
    /** Wraps each attempt (the composition root traces it in its event's trace); by default runs it as is. */
    aroundAttempt?: (claim: ClaimedDelivery, attempt: () => Promise<void>) => Promise<void>;
  }) {
    this.#deliveries = deps.deliveries;
    this.#email = deps.email;
    this.#webhooks = deps.webhooks;
    this.#policy = deps.policy;
    this.#leaseMs = deps.leaseMs;
    this.#batchSize = deps.batchSize ?? 20;
    this.#log = deps.log;
    this.#now = deps.now ?? (() => new Date());
    this.#random = deps.random ?? Math.random;
    this.#around = deps.aroundAttempt ?? ((_claim, attempt) => attempt());
  }

  /** The most deliveries one `execute` attempts: fewer means it took every delivery that was due. */
  get batchSize(): number {
    return this.#batchSize;
  }

  /** Returns how many deliveries were attempted. */
  async execute(): Promise<number> {
    const now = this.#now();
    const claimed = await this.#deliveries.claimDue({ now, leaseUntil: new Date(now.getTime() + this.#leaseMs), limit: this.#batchSize });
    // One slow recipient must not hold up the others: the batch is sent concurrently.
    await Promise.all(claimed.map((claim) => this.#around(claim, () => this.#attempt(claim))));
    return claimed.length;
  }

  async #attempt(claim: ClaimedDelivery): Promise<void> {
    const { delivery } = claim;
    let failure: string | undefined;
    try {
      await this.#send(claim);
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
    }
    const outcome = failure === undefined
      ? deliverySent(delivery, this.#now())
      : deliveryFailed(delivery, failure, this.#policy, this.#now(), this.#random);
    const recorded = await this.#deliveries.recordAttempt(claim.leaseToken, outcome, announcementOf(outcome, claim));
    const fields = { deliveryId: delivery.id, channel: delivery.channel, eventId: delivery.eventId, orderId: claim.event.orderId, attempts: delivery.attempts };
    if (!recorded) {
      this.#log.warn(fields, 'delivery outcome not recorded: its lease ran out or it was cancelled meanwhile');
    } else if (outcome.status === 'dead') {
      this.#log.error({ ...fields, error: failure }, 'notification delivery failed for good');
    } else if (outcome.status === 'pending') {
      this.#log.warn({ ...fields, error: failure, nextAttemptAt: outcome.nextAttemptAt.toISOString() }, 'notification delivery failed; will retry');
    }
  }

  async #send({ delivery, event, endpoint }: ClaimedDelivery): Promise<void> {
    if (delivery.channel === 'email') {
      await this.#email.send({ deliveryId: delivery.id, to: delivery.recipient, ...renderEmail(event.notice) });
      return;
    }
    if (endpoint === null) throw new Error(`webhook endpoint ${delivery.recipient} no longer exists`);
    await this.#webhooks.send({
      url: endpoint.url,
      secrets: signingSecrets(endpoint, this.#now()),
      body: { id: event.id, type: event.type, occurredAt: event.occurredAt.toISOString(), data: event.data },
    });
  }
}

function announcementOf(outcome: Delivery, { event }: ClaimedDelivery): DeliveryAnnouncement | null {
  const payload = { deliveryId: outcome.id, channel: outcome.channel, eventId: event.id, eventType: event.type, orderId: event.orderId };
  if (outcome.status === 'sent') return { type: notificationsEvents.delivered.type, payload };
  if (outcome.status === 'dead') return { type: notificationsEvents.failed.type, payload };
  return null;
}
