import type { ProviderReport } from '../domain/payment.ts';
import { applyProviderReport, planOperation } from '../domain/payment-transitions.ts';
import { paymentMessage } from './payment-messages.ts';
import type { OperationsLog, ProviderPaymentReference, WebhookEventTransactions } from './ports.ts';

/** A provider event whose signature the inbound adapter has verified. */
export interface VerifiedWebhookEvent {
  provider: 'stripe';
  eventId: string;
  type: string;
  payload: unknown;
  /** What the event says happened to a payment, when it is an event payments acts on. */
  report?: { reference: ProviderPaymentReference; report: ProviderReport };
}

/** `duplicate`: received before; `ignored`: recorded, but it changes no payment; `applied`: the payment moved. */
export type WebhookEventResult = 'applied' | 'ignored' | 'duplicate';

/**
 * Keeps a verified provider event and applies it to the payment it names, in one transaction keyed
 * by the event id, so a resent event has no second effect. A report the payment has reached already
 * (our own call was answered first) changes nothing; one that moves it (a capture whose answer we
 * lost) is settled as that call's answer would have been: the same integration event, and the
 * order's unfinished operation that made the call ends with it, so its worker, should it still be
 * waiting for the provider, loses its claim instead of announcing the change a second time.
 */
export class ApplyWebhookEvent {
  readonly #transactions: WebhookEventTransactions;
  readonly #log: OperationsLog;
  readonly #now: () => Date;

  constructor(deps: { transactions: WebhookEventTransactions; log: OperationsLog; now?: () => Date }) {
    this.#transactions = deps.transactions;
    this.#log = deps.log;
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(event: VerifiedWebhookEvent): Promise<WebhookEventResult> {
    const { report, ...recorded } = event;
    return this.#transactions.run(async (events) => {
      if (!(await events.record(recorded))) return 'duplicate';
      if (report === undefined) return 'ignored';
      const locked = await events.lockPayment(report.reference);
      if (locked === undefined) {
        this.#log.info({ provider: event.provider, eventId: event.eventId, eventType: event.type, providerPaymentId: report.reference.providerPaymentId }, 'provider event names no payment of ours; recorded and ignored');
        return 'ignored';
      }
      const { payment, pendingOperation } = locked;
      const change = applyProviderReport(payment, report.report, this.#now());
      if (change?.settlement.payment === undefined || !change.settlement.paymentChanged || change.settlement.event === undefined) return 'ignored';
      // Only the operation whose provider call this report answers ends with it; any other waits its turn.
      const plan = pendingOperation === undefined ? undefined : planOperation(pendingOperation.kind, payment, this.#now());
      const answered = pendingOperation !== undefined && plan?.type === 'call' && plan.call === change.call;
      const detail = `reported by the provider (${event.type}, ${event.eventId})`;
      await events.applyChange(
        change.settlement.payment,
        paymentMessage(payment.orderId, change.settlement.payment, change.settlement.event),
        answered ? { id: pendingOperation.id, result: { ...change.settlement.operation, detail } } : undefined,
      );
      this.#log.info({ orderId: payment.orderId, eventId: event.eventId, eventType: event.type, status: change.settlement.payment.status, operationId: answered ? pendingOperation.id : null }, 'payment moved by a provider event');
      return 'applied';
    });
  }
}
