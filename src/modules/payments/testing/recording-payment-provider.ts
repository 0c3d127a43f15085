import {
  PaymentProviderUnavailableError,
  type AuthorizeOutcome, type ChangeOutcome, type FoundAuthorization, type PaymentProvider, type ProviderPaymentState,
} from '../application/ports.ts';
import type { Money, ProviderCall } from '../domain/payment.ts';

/**
 * Wraps a provider and records every call made to it; `unavailable` makes the named calls fail
 * transiently (before reaching the wrapped provider) until it is cleared; `answersLost` lets the
 * named calls take effect at the wrapped provider and then fail transiently, as a timeout after
 * the provider acted does. Lookups (of a payment or of an order's authorisation) are recorded in
 * `lookups` by order id, and fail transiently while `lookupsUnavailable` is set.
 */
export class RecordingPaymentProvider implements PaymentProvider {
  readonly calls: { call: ProviderCall; orderId: string; idempotencyKey: string }[] = [];
  readonly unavailable = new Set<ProviderCall>();
  readonly answersLost = new Set<ProviderCall>();
  readonly lookups: string[] = [];
  lookupsUnavailable = false;
  readonly #inner: PaymentProvider;

  constructor(inner: PaymentProvider) {
    this.#inner = inner;
  }

  callsFor(orderId: string): string[] {
    return this.calls.filter((call) => call.orderId === orderId).map((call) => call.call);
  }

  authorize(request: { orderId: string; amount: Money; token: string; idempotencyKey: string }): Promise<AuthorizeOutcome> {
    return this.#record('authorize', request, () => this.#inner.authorize(request));
  }

  capture(request: { orderId: string; providerPaymentId: string; amount: Money; idempotencyKey: string }): Promise<ChangeOutcome> {
    return this.#record('capture', request, () => this.#inner.capture(request));
  }

  void(request: { orderId: string; providerPaymentId: string; idempotencyKey: string }): Promise<ChangeOutcome> {
    return this.#record('void', request, () => this.#inner.void(request));
  }

  refund(request: { orderId: string; providerPaymentId: string; amount: Money; idempotencyKey: string }): Promise<ChangeOutcome> {
    return this.#record('refund', request, () => this.#inner.refund(request));
  }

  lookup(request: { orderId: string; providerPaymentId: string }): Promise<ProviderPaymentState> {
    this.lookups.push(request.orderId);
    if (this.lookupsUnavailable) return Promise.reject(new PaymentProviderUnavailableError('test: lookups are unavailable'));
    return this.#inner.lookup(request);
  }

  findAuthorization(request: { orderId: string; idempotencyKey: string }): Promise<FoundAuthorization | undefined> {
    this.lookups.push(request.orderId);
    if (this.lookupsUnavailable) return Promise.reject(new PaymentProviderUnavailableError('test: lookups are unavailable'));
    return this.#inner.findAuthorization(request);
  }

  async #record<Outcome>(call: ProviderCall, request: { orderId: string; idempotencyKey: string }, forward: () => Promise<Outcome>): Promise<Outcome> {
    this.calls.push({ call, orderId: request.orderId, idempotencyKey: request.idempotencyKey });
    if (this.unavailable.has(call)) throw new PaymentProviderUnavailableError(`test: ${call} is unavailable`);
    const outcome = await forward();
    if (this.answersLost.has(call)) throw new PaymentProviderUnavailableError(`test: the answer to ${call} was lost`);
    return outcome;
  }
}
