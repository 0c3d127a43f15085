import { idempotencyKey, retryDelayMs, type Payment, type ProviderCall, type ProviderOutcome, type Settlement } from '../domain/payment.ts';
import { applyProviderOutcome, giveUp, planOperation, reconcile, reconcileAuthorization } from '../domain/payment-transitions.ts';
import { paymentMessage } from './payment-messages.ts';
import {
  PaymentProviderUnavailableError,
  type ClaimedOperation, type OperationsLog, type PaymentMetrics, type PaymentOperationQueue, type PaymentProvider, type ProviderCallRecord,
} from './ports.ts';

const defaultMaxRetryDelayMs = 5 * 60_000;

export interface RunPaymentOperationsSettings {
  /** Attempts of one provider call before the operation gives up. */
  maxAttempts: number;
  /** First retry delay after a transient failure; doubles with each attempt, with jitter. */
  retryBaseMs: number;
  /** Longest wait between two attempts (default 5 min), which bounds how late a call is tried again once the provider is back. */
  maxRetryDelayMs?: number;
  /** How long a claim lasts unless renewed (`extendLease`) while its call runs; a crashed worker's operations wait this long. */
  leaseMs: number;
}

/**
 * The worker's use case: claims due operations, calls the provider outside any transaction, then
 * records the outcome, the provider call and the resulting event in one transaction. Transient
 * failures are retried with backoff and jitter until `maxAttempts`; then the provider is asked
 * whether the call took effect, and the operation ends on its answer. While even that lookup
 * fails, the call is tried again (its idempotency key makes that safe), at most
 * `maxRetryDelayMs` apart: giving up blind could leave a hold or a capture nobody knows of.
 */
export class RunPaymentOperations {
  readonly #operations: PaymentOperationQueue;
  readonly #provider: PaymentProvider;
  readonly #log: OperationsLog;
  readonly #metrics: PaymentMetrics | undefined;
  readonly #settings: RunPaymentOperationsSettings;
  readonly #now: () => Date;
  readonly #random: () => number;

  constructor(deps: {
    operations: PaymentOperationQueue;
    provider: PaymentProvider;
    log: OperationsLog;
    metrics?: PaymentMetrics;
    settings: RunPaymentOperationsSettings;
    now?: () => Date;
    random?: () => number;
  }) {
    this.#operations = deps.operations;
    this.#provider = deps.provider;
    this.#log = deps.log;
    this.#metrics = deps.metrics;
    this.#settings = deps.settings;
    this.#now = deps.now ?? (() => new Date());
    this.#random = deps.random ?? Math.random;
  }

  /** Claims up to `limit` operations that are due and whose turn it is. */
  claim(limit: number): Promise<ClaimedOperation[]> {
    return this.#operations.claimDue(limit, this.#settings.leaseMs);
  }

  /** Keeps a claim whose provider call is still running; false when it was lost already. */
  extendLease(claim: ClaimedOperation): Promise<boolean> {
    return this.#operations.extendLease(claim, this.#settings.leaseMs);
  }

  /** Runs one claimed operation to its end, or to its next retry. */
  async run(claim: ClaimedOperation): Promise<void> {
    const plan = planOperation(claim.kind, claim.payment, this.#now());
    if (plan.type === 'settle') {
      await this.#settle(claim, plan.settlement, undefined);
      return;
    }
    const payment = claim.payment;
    if (payment === undefined) throw new Error(`Operation ${claim.id} must call the provider but its order has no payment`);
    const key = idempotencyKey(claim.orderId, plan.call);
    const calledAt = this.#now();
    const record = (outcome: string, detail: string | null): ProviderCallRecord => ({
      operationId: claim.id, orderId: claim.orderId, call: plan.call, idempotencyKey: key, attempt: claim.attempts,
      outcome, detail, durationMs: Math.max(0, this.#now().getTime() - calledAt.getTime()), calledAt,
    });

    let answer: ProviderOutcome;
    try {
      answer = await this.#callProvider(plan.call, payment, key);
    } catch (error) {
      if (!(error instanceof PaymentProviderUnavailableError)) {
        this.#log.error({ err: error, orderId: claim.orderId, operationId: claim.id }, 'the payment provider adapter failed unexpectedly; treating it as transient');
      }
      const detail = describe(error);
      if (claim.attempts >= this.#settings.maxAttempts) {
        const settlement = await this.#endAmbiguous(claim, payment, plan.call, key, detail);
        if (settlement !== undefined) {
          await this.#settle(claim, settlement, record('transient-error', detail));
          return;
        }
      }
      const delayMs = retryDelayMs(this.#settings.retryBaseMs, claim.attempts, this.#random, this.#settings.maxRetryDelayMs ?? defaultMaxRetryDelayMs);
      const kept = await this.#operations.retryLater(claim, delayMs, record('transient-error', detail));
      this.#log.warn({ orderId: claim.orderId, operationId: claim.id, call: plan.call, attempts: claim.attempts, delayMs, kept, detail }, 'payment provider unavailable; retrying later');
      return;
    }
    const detail = answer.outcome === 'authorized' ? answer.providerPaymentId : 'reason' in answer ? answer.reason : null;
    await this.#settle(claim, applyProviderOutcome(payment, plan.call, answer, this.#now()), record(answer.outcome, detail));
  }

  /**
   * Before giving up on a call whose answers kept getting lost, asks the provider where the payment
   * stands: the call may have taken effect (a capture that timed out after taking the money, an
   * authorisation that placed a hold). Only the provider's word ends the operation; undefined when
   * the lookup failed too, and the operation is asked again later.
   */
  async #endAmbiguous(claim: ClaimedOperation, payment: Payment, call: ProviderCall, key: string, lastError: string): Promise<Settlement | undefined> {
    try {
      if (call === 'authorize') {
        const found = await this.#provider.findAuthorization({ orderId: payment.orderId, idempotencyKey: key });
        this.#log.warn({ orderId: claim.orderId, operationId: claim.id, call, found }, 'payment provider kept failing; looked the authorisation up before giving up');
        return reconcileAuthorization(payment, found, lastError, this.#now());
      }
      if (payment.providerPaymentId === null) return giveUp(payment, call, lastError, this.#now());
      const state = await this.#provider.lookup({ orderId: payment.orderId, providerPaymentId: payment.providerPaymentId });
      const reconciled = reconcile(payment, call, state, this.#now());
      this.#log.warn({ orderId: claim.orderId, operationId: claim.id, call, state, reconciled: reconciled !== undefined }, 'payment provider kept failing; looked the payment up before giving up');
      return reconciled ?? giveUp(payment, call, lastError, this.#now());
    } catch (error) {
      this.#log.error(
        { orderId: claim.orderId, operationId: claim.id, call, attempts: claim.attempts, detail: describe(error) },
        'payment provider kept failing and the lookup failed too; whether the call took effect is unknown, so it is tried again later',
      );
      return undefined;
    }
  }

  #callProvider(call: ProviderCall, payment: Payment, key: string): Promise<ProviderOutcome> {
    const { orderId, amount, token, providerPaymentId } = payment;
    if (call === 'authorize') return this.#provider.authorize({ orderId, amount, token, idempotencyKey: key });
    if (providerPaymentId === null) throw new Error(`The payment of order ${orderId} has no provider payment id to ${call}`);
    switch (call) {
      case 'capture':
        return this.#provider.capture({ orderId, providerPaymentId, amount, idempotencyKey: key });
      case 'void':
        return this.#provider.void({ orderId, providerPaymentId, idempotencyKey: key });
      case 'refund':
        return this.#provider.refund({ orderId, providerPaymentId, amount, idempotencyKey: key });
    }
  }

  async #settle(claim: ClaimedOperation, settlement: Settlement, call: ProviderCallRecord | undefined): Promise<void> {
    const message = settlement.event === undefined ? undefined : paymentMessage(claim.orderId, settlement.payment, settlement.event);
    const result = await this.#operations.settle(claim, settlement, message, call);
    const details = { orderId: claim.orderId, operationId: claim.id, kind: claim.kind, outcome: settlement.operation.outcome };
    if (result === 'claim-lost') {
      this.#log.warn(details, 'the claim on a payment operation ran out before it was settled; its new holder settles it');
    } else if (result === 'payment-moved') {
      this.#log.warn(details, 'the payment changed (a provider report) while the call was in flight; the operation is planned again from it');
    } else if (settlement.operation.status === 'failed') {
      this.#log.error({ ...details, detail: settlement.operation.detail }, 'payment operation failed and needs an admin (see payments.operations)');
      this.#metrics?.operationFailed(claim.kind);
    }
  }
}

function describe(error: unknown): string {
  return (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 1000);
}
