import {
  PaymentProviderUnavailableError,
  type AuthorizeOutcome, type ChangeOutcome, type FoundAuthorization, type PaymentProvider, type ProviderPaymentState,
} from '../application/ports.ts';
import type { Money, ProviderCall, ProviderOutcome } from '../domain/payment.ts';

/**
 * How the gateway answers the next calls: `answers` at once; `unavailable` fails transiently before
 * acting; `answer-lost` acts, then fails transiently (a timeout after the money moved); `slow` acts
 * and answers only when `releaseSlowCalls()` is called.
 */
export type GatewayBehaviour = 'answers' | 'unavailable' | 'answer-lost' | 'slow';

type IntentStatus = 'requires_capture' | 'succeeded' | 'canceled' | 'refunded';

const stateOfIntent: Record<IntentStatus, ProviderPaymentState> = {
  requires_capture: 'authorized', succeeded: 'captured', canceled: 'voided', refunded: 'refunded',
};

/** What the gateway did to one order's money, whatever the payments module was told. */
export interface GatewayLedger {
  /** Authorisations that took effect (holds placed). */
  authorized: number;
  /** Captures that took effect, and the amount they took. */
  captures: number;
  captured: number;
  refunded: number;
  /** Where the intent stands now; `none` when no authorisation took effect. */
  state: ProviderPaymentState | 'none';
}

/**
 * A card gateway in memory that keeps the truth about every order's money: `tok_visa` is authorised,
 * `tok_declined` declined; a repeated idempotency key gets the first answer again without acting
 * twice; capture, void and refund act only from the state they expect. `behaviour` scripts faults
 * for the calls that follow, so a test decides when the gateway is slow, down, or loses its answers.
 */
export class InMemoryPaymentGateway implements PaymentProvider {
  behaviour: GatewayBehaviour = 'answers';
  readonly calls: { call: ProviderCall | 'lookup' | 'find-authorization'; orderId: string; behaviour: GatewayBehaviour }[] = [];
  readonly #answers = new Map<string, ProviderOutcome>();
  readonly #intents = new Map<string, { orderId: string; status: IntentStatus }>();
  readonly #ledgers = new Map<string, GatewayLedger>();
  #slow: (() => void)[] = [];

  /** The calls waiting to answer (`slow`). */
  get slowCalls(): number {
    return this.#slow.length;
  }

  /** Lets every slow call answer. */
  releaseSlowCalls(): void {
    const waiting = this.#slow;
    this.#slow = [];
    for (const answer of waiting) answer();
  }

  ledgerOf(orderId: string): GatewayLedger {
    return this.#ledgers.get(orderId) ?? { authorized: 0, captures: 0, captured: 0, refunded: 0, state: 'none' };
  }

  authorize(request: { orderId: string; amount: Money; token: string; idempotencyKey: string }): Promise<AuthorizeOutcome> {
    return this.#call('authorize', request.orderId, () => {
      const known = this.#answers.get(request.idempotencyKey);
      if (known?.outcome === 'authorized' || known?.outcome === 'declined') return known;
      if (request.token !== 'tok_visa') return this.#remember(request.idempotencyKey, { outcome: 'declined', reason: 'card-declined' });
      const providerPaymentId = `gw_pi_${request.idempotencyKey}`;
      this.#intents.set(providerPaymentId, { orderId: request.orderId, status: 'requires_capture' });
      this.#change(request.orderId, (ledger) => ({ ...ledger, authorized: ledger.authorized + 1, state: 'authorized' }));
      return this.#remember(request.idempotencyKey, { outcome: 'authorized', providerPaymentId });
    });
  }

  capture(request: { orderId: string; providerPaymentId: string; amount: Money; idempotencyKey: string }): Promise<ChangeOutcome> {
    return this.#call('capture', request.orderId, () => this.#move(request.providerPaymentId, request.idempotencyKey, 'requires_capture', 'succeeded', (ledger) => ({
      ...ledger, captures: ledger.captures + 1, captured: ledger.captured + request.amount.amount, state: 'captured',
    })));
  }

  void(request: { orderId: string; providerPaymentId: string; idempotencyKey: string }): Promise<ChangeOutcome> {
    return this.#call('void', request.orderId, () => this.#move(request.providerPaymentId, request.idempotencyKey, 'requires_capture', 'canceled', (ledger) => ({
      ...ledger, state: 'voided',
    })));
  }

  refund(request: { orderId: string; providerPaymentId: string; amount: Money; idempotencyKey: string }): Promise<ChangeOutcome> {
    return this.#call('refund', request.orderId, () => this.#move(request.providerPaymentId, request.idempotencyKey, 'succeeded', 'refunded', (ledger) => ({
      ...ledger, refunded: ledger.refunded + request.amount.amount, state: 'refunded',
    })));
  }

  /** Looks up without acting, so it fails only when the gateway is `unavailable`. */
  lookup(request: { orderId: string; providerPaymentId: string }): Promise<ProviderPaymentState> {
    return this.#read('lookup', request.orderId, () => {
      const status = this.#intents.get(request.providerPaymentId)?.status;
      return status === undefined ? 'unknown' : stateOfIntent[status];
    });
  }

  findAuthorization(request: { orderId: string; idempotencyKey: string }): Promise<FoundAuthorization | undefined> {
    return this.#read('find-authorization', request.orderId, () => {
      const providerPaymentId = `gw_pi_${request.idempotencyKey}`;
      const intent = this.#intents.get(providerPaymentId);
      return intent === undefined ? undefined : { providerPaymentId, state: stateOfIntent[intent.status] };
    });
  }

  #read<Answer>(call: 'lookup' | 'find-authorization', orderId: string, answer: () => Answer): Promise<Answer> {
    const behaviour = this.behaviour;
    this.calls.push({ call, orderId, behaviour });
    if (behaviour === 'unavailable') return Promise.reject(new PaymentProviderUnavailableError(`gateway unavailable for ${call}`));
    return Promise.resolve(answer());
  }

  async #call<Outcome>(call: ProviderCall, orderId: string, act: () => Outcome): Promise<Outcome> {
    const behaviour = this.behaviour;
    this.calls.push({ call, orderId, behaviour });
    if (behaviour === 'unavailable') throw new PaymentProviderUnavailableError(`gateway unavailable for ${call}`);
    const outcome = act();
    if (behaviour === 'answer-lost') throw new PaymentProviderUnavailableError(`the answer to ${call} was lost`);
    if (behaviour === 'slow') await new Promise<void>((resolve) => { this.#slow.push(resolve); });
    return outcome;
  }

  #move(providerPaymentId: string, key: string, from: IntentStatus, to: IntentStatus, record: (ledger: GatewayLedger) => GatewayLedger): ChangeOutcome {
    const known = this.#answers.get(key);
    if (known?.outcome === 'succeeded' || known?.outcome === 'failed') return known;
    const intent = this.#intents.get(providerPaymentId);
    if (intent === undefined) return this.#remember(key, { outcome: 'failed', reason: 'no-such-payment-intent' });
    if (intent.status !== from) return this.#remember(key, { outcome: 'failed', reason: `payment-intent-${intent.status}` });
    intent.status = to;
    this.#change(intent.orderId, record);
    return this.#remember(key, { outcome: 'succeeded' });
  }

  #change(orderId: string, record: (ledger: GatewayLedger) => GatewayLedger): void {
    this.#ledgers.set(orderId, record(this.ledgerOf(orderId)));
  }

  #remember<Outcome extends ProviderOutcome>(key: string, outcome: Outcome): Outcome {
    this.#answers.set(key, outcome);
    return outcome;
  }
}
