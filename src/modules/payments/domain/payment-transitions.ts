import type {
  OperationKind, OperationPlan, OperationResult, Payment, PaymentEvent, PaymentStatus, ProviderCall, ProviderOutcome, ProviderPaymentState,
  ProviderReport, Settlement,
} from './payment.ts';

/*
 * How an operation, a provider's answer or a provider's report moves a payment. Each returns the
 * settlement (the payment after it, the event, the operation's result) and writes nothing.
 */

/**
 * Decides what an operation means for the payment as it stands when its turn comes (an order's
 * operations run one after another, in the order they were requested):
 * - capture needs an authorisation; without one it fails at once, without a provider call;
 * - void releases a hold; with nothing held it is a success without a provider call, and after a
 *   capture it refunds (the order gave up, the money must go back);
 * - refund gives captured money back; before a capture it voids;
 * - a void or refund that finds the authorisation not yet made closes the payment as voided, so the
 *   authorisation, if it comes after (it was requested at the same moment), holds nothing.
 */
export function planOperation(kind: OperationKind, payment: Payment | undefined, now: Date): OperationPlan {
  const status = payment?.status;
  switch (kind) {
    case 'authorize':
      if (status === 'pending') return call('authorize');
      return settleWithout(payment, undefined, { status: 'done', outcome: 'skipped', detail: status === undefined ? 'the order has no payment' : `the payment is already ${status}` });
    case 'capture':
      if (status === 'authorized') return call('capture');
      return settleWithout(payment, { type: 'capture-failed', reason: status === undefined ? 'no-payment' : `payment-${status}` }, undefined);
    case 'void':
      if (status === 'authorized') return call('void');
      if (status === 'captured') return call('refund');
      if (status === 'refunded') return settleWithout(payment, { type: 'refunded' }, undefined);
      if (payment !== undefined && status === 'pending') return { type: 'settle', settlement: closedBeforeAuthorized(payment, now) };
      return settleWithout(payment, { type: 'voided' }, { status: 'done', outcome: 'voided', detail: nothingHeld(status) });
    case 'refund':
      if (status === 'captured') return call('refund');
      if (status === 'authorized') return call('void');
      if (status === 'refunded') return settleWithout(payment, { type: 'refunded' }, undefined);
      if (payment !== undefined && status === 'pending') return { type: 'settle', settlement: closedBeforeAuthorized(payment, now) };
      return settleWithout(payment, { type: 'voided' }, { status: 'done', outcome: 'voided', detail: nothingHeld(status) });
  }
}

/** Applies the provider's answer to a call. */
export function applyProviderOutcome(payment: Payment, providerCall: ProviderCall, answer: ProviderOutcome, now: Date): Settlement {
  switch (answer.outcome) {
    case 'authorized':
      if (providerCall !== 'authorize') break;
      return changed({ ...payment, status: 'authorized', providerPaymentId: answer.providerPaymentId, updatedAt: now }, { type: 'authorized' });
    case 'declined':
      if (providerCall !== 'authorize') break;
      return changed({ ...payment, status: 'declined', declineReason: answer.reason, updatedAt: now }, { type: 'declined', reason: answer.reason }, answer.reason);
    case 'succeeded':
      if (providerCall === 'capture') return changed({ ...payment, status: 'captured', updatedAt: now }, { type: 'captured' });
      if (providerCall === 'void') return changed({ ...payment, status: 'voided', updatedAt: now }, { type: 'voided' });
      if (providerCall === 'refund') return changed({ ...payment, status: 'refunded', updatedAt: now }, { type: 'refunded' });
      break;
    case 'failed':
      if (providerCall === 'capture') return settlementOf(payment, false, { type: 'capture-failed', reason: answer.reason }, answer.reason);
      if (providerCall === 'authorize') {
        return changed({ ...payment, status: 'declined', declineReason: 'provider-error', updatedAt: now }, { type: 'declined', reason: 'provider-error' }, answer.reason);
      }
      return failed(payment, `the provider refused to ${providerCall}: ${answer.reason}`);
  }
  return failed(payment, `the provider answered ${answer.outcome} to ${providerCall}`);
}

/**
 * Ends an operation whose provider call kept failing transiently: an authorisation is declined
 * (`provider-error`) and a capture fails, so the order can move on; a void or refund is marked
 * failed for an admin, since giving up silently would keep the customer's money.
 */
export function giveUp(payment: Payment, providerCall: ProviderCall, lastError: string, now: Date): Settlement {
  const detail = `gave up after repeated transient failures: ${lastError}`;
  switch (providerCall) {
    case 'authorize':
      return changed({ ...payment, status: 'declined', declineReason: 'provider-error', updatedAt: now }, { type: 'declined', reason: 'provider-error' }, detail);
    case 'capture':
      return settlementOf(payment, false, { type: 'capture-failed', reason: 'provider-error' }, detail);
    case 'void':
    case 'refund':
      return failed(payment, detail);
  }
}

/**
 * Ends a capture, void or refund whose answers kept getting lost, from the state the provider
 * reports on lookup: when the call did take effect, it is settled as if the provider had answered
 * (a capture is reported captured, never failed, so the order never loses track of money taken).
 * Undefined when the lookup proves nothing; the caller then gives up.
 */
export function reconcile(payment: Payment, providerCall: ProviderCall, state: ProviderPaymentState, now: Date): Settlement | undefined {
  const detail = `the provider reports the payment ${state} after repeated transient failures`;
  if (providerCall === 'capture' && state === 'captured') return changed({ ...payment, status: 'captured', updatedAt: now }, { type: 'captured' }, detail);
  if (providerCall === 'void' && state === 'voided') return changed({ ...payment, status: 'voided', updatedAt: now }, { type: 'voided' }, detail);
  if ((providerCall === 'refund' || providerCall === 'void') && state === 'refunded') return changed({ ...payment, status: 'refunded', updatedAt: now }, { type: 'refunded' }, detail);
  return undefined;
}

/**
 * Ends an authorisation whose answers kept getting lost, from what the provider holds for the order:
 * an authorisation it holds is settled as if it had answered (the saga captures it, or voids it if
 * the order gave up meanwhile); without one nothing is held, and the payment is declined
 * (`provider-error`) so the order can move on.
 */
export function reconcileAuthorization(payment: Payment, found: { providerPaymentId: string; state: ProviderPaymentState } | undefined, lastError: string, now: Date): Settlement {
  if (found?.state === 'authorized') {
    return changed(
      { ...payment, status: 'authorized', providerPaymentId: found.providerPaymentId, updatedAt: now },
      { type: 'authorized' },
      'the provider reports the authorisation made after repeated transient failures',
    );
  }
  return giveUp(payment, 'authorize', `${lastError} (the provider holds no authorisation for the order${found === undefined ? '' : `; it reports it ${found.state}`})`, now);
}

/** A provider report that moves the payment: the call it stands for, and its settlement as if that call had been answered. */
export interface ReportedChange {
  readonly call: ProviderCall;
  readonly settlement: Settlement;
}

/**
 * Applies a provider report with the transitions of the provider's own answers, forward only: a
 * report the payment has already reached, or one that arrives out of order (an authorisation after
 * the capture), changes nothing and gives undefined, which makes a resent or late report harmless.
 */
export function applyProviderReport(payment: Payment, report: ProviderReport, now: Date): ReportedChange | undefined {
  const from = payment.status;
  switch (report.state) {
    case 'authorized':
      if (from !== 'pending') return undefined;
      return { call: 'authorize', settlement: applyProviderOutcome(payment, 'authorize', { outcome: 'authorized', providerPaymentId: report.providerPaymentId }, now) };
    case 'declined':
      if (from !== 'pending') return undefined;
      return { call: 'authorize', settlement: applyProviderOutcome(payment, 'authorize', { outcome: 'declined', reason: report.reason }, now) };
    case 'captured':
      return from === 'authorized' ? reported('capture', reconcile(payment, 'capture', 'captured', now)) : undefined;
    case 'voided':
      return from === 'authorized' ? reported('void', reconcile(payment, 'void', 'voided', now)) : undefined;
    case 'refunded':
      return from === 'captured' ? reported('refund', reconcile(payment, 'refund', 'refunded', now)) : undefined;
  }
}

function reported(providerCall: ProviderCall, settlement: Settlement | undefined): ReportedChange | undefined {
  return settlement === undefined ? undefined : { call: providerCall, settlement };
}

function call(providerCall: ProviderCall): OperationPlan {
  return { type: 'call', call: providerCall };
}

function settleWithout(payment: Payment | undefined, event: PaymentEvent | undefined, operation: OperationResult | undefined): OperationPlan {
  return {
    type: 'settle',
    settlement: {
      payment, paymentChanged: false, event,
      operation: operation ?? { status: 'done', outcome: event?.type ?? 'skipped', detail: event?.type === 'capture-failed' ? event.reason : null },
    },
  };
}

function closedBeforeAuthorized(payment: Payment, now: Date): Settlement {
  return changed({ ...payment, status: 'voided', updatedAt: now }, { type: 'voided' }, 'voided before its authorisation was made; it will hold nothing');
}

function nothingHeld(status: PaymentStatus | undefined): string {
  return status === undefined ? 'no authorisation was ever requested' : `nothing is held (the payment is ${status})`;
}

function changed(payment: Payment, event: PaymentEvent, detail: string | null = null): Settlement {
  return settlementOf(payment, true, event, detail);
}

function settlementOf(payment: Payment, paymentChanged: boolean, event: PaymentEvent, detail: string | null): Settlement {
  return { payment, paymentChanged, event, operation: { status: 'done', outcome: event.type, detail } };
}

function failed(payment: Payment, detail: string): Settlement {
  return { payment, paymentChanged: false, event: undefined, operation: { status: 'failed', outcome: 'failed', detail } };
}
