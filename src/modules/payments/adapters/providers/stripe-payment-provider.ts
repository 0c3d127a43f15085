import type Stripe from 'stripe';
import {
  PaymentProviderUnavailableError,
  type AuthorizeOutcome, type ChangeOutcome, type FoundAuthorization, type PaymentProvider, type ProviderPaymentState,
} from '../../application/ports.ts';
import type { DeclineReason, Money } from '../../domain/payment.ts';

/** The SDK's error classes, which tell a decline from a failure worth retrying. */
type StripeErrors = typeof Stripe.errors;

/**
 * Stripe as the payment provider: an authorisation is a PaymentIntent confirmed at once with
 * manual capture; capture and cancel act on it; a refund refunds it. Every request carries the
 * operation's idempotency key, so Stripe answers a repeat with the first result. The SDK does not
 * retry on its own: the worker retries, with backoff, and logs every call.
 */
export class StripePaymentProvider implements PaymentProvider {
  readonly #sdk: Promise<{ stripe: Stripe; errors: StripeErrors }>;

  constructor(options: { apiKey: string; apiBaseUrl?: string; timeoutMs?: number }) {
    // The SDK is loaded when a provider is built, so a process not configured for Stripe never loads it.
    this.#sdk = import('stripe').then(({ default: StripeClient }) => ({
      stripe: new StripeClient(options.apiKey, {
        maxNetworkRetries: 0,
        timeout: options.timeoutMs ?? 20_000,
        telemetry: false,
        ...(options.apiBaseUrl === undefined ? {} : addressOf(options.apiBaseUrl)),
      }),
      errors: StripeClient.errors,
    }));
    // A failed load is reported by the first call that needs the SDK, not as an unhandled rejection.
    this.#sdk.catch(() => undefined);
  }

  async authorize(request: { orderId: string; amount: Money; token: string; idempotencyKey: string }): Promise<AuthorizeOutcome> {
    const { stripe, errors } = await this.#sdk;
    try {
      const intent = await stripe.paymentIntents.create({
        amount: request.amount.amount,
        currency: request.amount.currency.toLowerCase(),
        payment_method: request.token,
        automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
        capture_method: 'manual',
        confirm: true,
        metadata: { orderId: request.orderId },
      }, { idempotencyKey: request.idempotencyKey });
      if (intent.status === 'requires_capture') return { outcome: 'authorized', providerPaymentId: intent.id };
      // e.g. requires_action (3-D Secure): nobody is there to complete it, so nothing is held.
      return { outcome: 'declined', reason: 'card-declined' };
    } catch (error) {
      throwIfTransient(errors, error);
      const decline = declineReasonOf(errors, error);
      if (decline !== undefined) return { outcome: 'declined', reason: decline };
      return { outcome: 'failed', reason: reasonOf(errors, error) };
    }
  }

  async capture(request: { orderId: string; providerPaymentId: string; amount: Money; idempotencyKey: string }): Promise<ChangeOutcome> {
    return this.#change(async (stripe) => {
      const intent = await stripe.paymentIntents.capture(request.providerPaymentId, { amount_to_capture: request.amount.amount }, { idempotencyKey: request.idempotencyKey });
      return intent.status === 'succeeded' ? undefined : `payment-intent-${intent.status}`;
    });
  }

  async void(request: { orderId: string; providerPaymentId: string; idempotencyKey: string }): Promise<ChangeOutcome> {
    return this.#change(async (stripe) => {
      const intent = await stripe.paymentIntents.cancel(request.providerPaymentId, {}, { idempotencyKey: request.idempotencyKey });
      return intent.status === 'canceled' ? undefined : `payment-intent-${intent.status}`;
    });
  }

  async refund(request: { orderId: string; providerPaymentId: string; amount: Money; idempotencyKey: string }): Promise<ChangeOutcome> {
    return this.#change(async (stripe) => {
      const refund = await stripe.refunds.create({ payment_intent: request.providerPaymentId, amount: request.amount.amount }, { idempotencyKey: request.idempotencyKey });
      return refund.status === 'failed' || refund.status === 'canceled' ? `refund-${refund.status}` : undefined;
    });
  }

  async lookup(request: { orderId: string; providerPaymentId: string }): Promise<ProviderPaymentState> {
    const { stripe, errors } = await this.#sdk;
    try {
      const intent = await stripe.paymentIntents.retrieve(request.providerPaymentId, { expand: ['latest_charge'] });
      return stateOf(intent);
    } catch (error) {
      throwIfTransient(errors, error);
      return 'unknown';
    }
  }

  /**
   * Searches the order's PaymentIntents by the `orderId` metadata every authorisation carries.
   * Stripe's search index trails writes (by under a minute, Stripe says); the worker asks only
   * after its retries with backoff ran out, and the webhook of the authorisation
   * (`payment_intent.amount_capturable_updated`) reports one the search missed.
   */
  async findAuthorization(request: { orderId: string; idempotencyKey: string }): Promise<FoundAuthorization | undefined> {
    const { stripe, errors } = await this.#sdk;
    try {
      const found = await stripe.paymentIntents.search({ query: `metadata['orderId']:'${quoted(request.orderId)}'`, limit: 10, expand: ['data.latest_charge'] });
      const intents = found.data.filter((intent) => intent.metadata.orderId === request.orderId);
      const intent = intents.find((candidate) => candidate.status === 'requires_capture') ?? intents[0];
      return intent === undefined ? undefined : { providerPaymentId: intent.id, state: stateOf(intent) };
    } catch (error) {
      throwIfTransient(errors, error);
      throw new PaymentProviderUnavailableError(`Stripe refused the search for the order's authorisation: ${reasonOf(errors, error)}`, { cause: error });
    }
  }

  /** Runs a request that answers with a failure reason, or undefined on success. */
  async #change(request: (stripe: Stripe) => Promise<string | undefined>): Promise<ChangeOutcome> {
    const { stripe, errors } = await this.#sdk;
    try {
      const failure = await request(stripe);
      return failure === undefined ? { outcome: 'succeeded' } : { outcome: 'failed', reason: failure };
    } catch (error) {
      throwIfTransient(errors, error);
      return { outcome: 'failed', reason: reasonOf(errors, error) };
    }
  }
}

function stateOf(intent: Stripe.PaymentIntent): ProviderPaymentState {
  switch (intent.status) {
    case 'requires_capture':
      return 'authorized';
    case 'canceled':
      return 'voided';
    case 'succeeded': {
      const charge = intent.latest_charge;
      return typeof charge === 'object' && charge?.refunded === true ? 'refunded' : 'captured';
    }
    default:
      return 'unknown';
  }
}

/** A value inside a single-quoted string of Stripe's search query language. */
function quoted(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll("'", "\\'");
}

/** Where the SDK should send requests instead of api.stripe.com (a local stub in tests). */
function addressOf(baseUrl: string): { host: string; port: number; protocol: 'http' | 'https' } {
  const url = new URL(baseUrl);
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return { host: url.hostname, port: url.port === '' ? (protocol === 'http' ? 80 : 443) : Number(url.port), protocol };
}

/** Timeouts, network failures, 5xx, rate limits and a concurrent request with the same key are worth retrying. */
function throwIfTransient(errors: StripeErrors, error: unknown): void {
  if (!(error instanceof errors.StripeError)) throw error;
  const status = error.statusCode ?? 0;
  const transient = error instanceof errors.StripeConnectionError
    || error instanceof errors.StripeAPIError
    || error instanceof errors.StripeRateLimitError
    || status === 409 || status >= 500;
  if (transient) throw new PaymentProviderUnavailableError(`Stripe is unavailable: ${error.message}`, { cause: error });
}

function declineReasonOf(errors: StripeErrors, error: unknown): DeclineReason | undefined {
  if (error instanceof errors.StripeCardError) {
    return error.decline_code === 'insufficient_funds' || error.code === 'insufficient_funds' ? 'insufficient-funds' : 'card-declined';
  }
  if (error instanceof errors.StripeInvalidRequestError && error.param === 'payment_method') return 'invalid-token';
  return undefined;
}

function reasonOf(errors: StripeErrors, error: unknown): string {
  if (error instanceof errors.StripeError) return error.code ?? error.type;
  return error instanceof Error ? error.message : String(error);
}
