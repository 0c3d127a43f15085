import Stripe from 'stripe';

/**
 * Payment method ids the stub answers specially, after Stripe's own test payment methods;
 * anything else authorises.
 */
export const stubPaymentMethods = {
  visa: 'pm_card_visa',
  declined: 'pm_card_chargeDeclined',
  insufficientFunds: 'pm_card_chargeDeclinedInsufficientFunds',
  missing: 'pm_does_not_exist',
  serverError: 'pm_stub_server_error',
  hang: 'pm_stub_hang',
} as const;

/** A webhook event as the stub raises it, with the status its delivery got (undefined until delivered, 0 on a network error). */
export interface StubStripeEvent {
  id: string;
  type: string;
  object: Record<string, unknown>;
  deliveryStatus: number | undefined;
}

/** The stub's answer to one request, or `hang` for a request it never answers. */
export type StubAnswer = { status: number; body: unknown } | 'hang';

type Form = Record<string, string>;

/**
 * What the stub's Stripe account holds: its PaymentIntents, the events their changes raised, and
 * where those events are delivered. One sequence numbers intents, refunds and events alike.
 */
export class StubStripeAccount {
  readonly events: StubStripeEvent[] = [];
  readonly #intents = new Map<string, Record<string, unknown>>();
  readonly #inFlight = new Set<Promise<void>>();
  #webhook: { url: string; secret: string } | undefined;
  #sequence = 0;

  /** Delivers every later event to `url`, signed with `secret` as Stripe signs webhooks. */
  sendWebhooksTo(url: string, secret: string): void {
    this.#webhook = { url, secret };
  }

  /** Resolves once every event raised so far has been delivered (or failed to be). */
  async deliveries(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
  }

  /** Answers a request to the Stripe API as Stripe would, changing the account as it does. */
  answer(method: string, path: string, form: Form): StubAnswer {
    if (method === 'POST' && path === '/v1/payment_intents') return this.#createIntent(form);
    const action = /^\/v1\/payment_intents\/([^/]+)\/(capture|cancel)$/.exec(path);
    if (method === 'POST' && action !== null) return this.#captureOrCancel(action[1] ?? '', action[2], form);
    if (method === 'GET' && path === '/v1/payment_intents/search') return this.#searchIntents(path, form);
    const lookedUp = /^\/v1\/payment_intents\/([^/]+)$/.exec(path);
    if (method === 'GET' && lookedUp !== null) {
      const intent = this.#intents.get(lookedUp[1] ?? '');
      if (intent === undefined) return { status: 404, body: { error: { type: 'invalid_request_error', code: 'resource_missing', param: 'intent', message: 'No such payment_intent' } } };
      return { status: 200, body: intent };
    }
    if (method === 'POST' && path === '/v1/refunds') return this.#refund(form);
    return { status: 404, body: { error: { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${path})` } } };
  }

  #createIntent(form: Form): StubAnswer {
    switch (form.payment_method) {
      case stubPaymentMethods.hang:
        return 'hang';
      case stubPaymentMethods.serverError:
        return { status: 500, body: { error: { type: 'api_error', message: 'An unknown error occurred' } } };
      case stubPaymentMethods.missing:
        return {
          status: 400,
          body: { error: { type: 'invalid_request_error', code: 'resource_missing', param: 'payment_method', message: `No such PaymentMethod: '${form.payment_method}'` } },
        };
      case stubPaymentMethods.declined:
        return cardError('card_declined', 'generic_decline', 'Your card was declined.', form);
      case stubPaymentMethods.insufficientFunds:
        return cardError('card_declined', 'insufficient_funds', 'Your card has insufficient funds.', form);
      default: {
        this.#sequence += 1;
        const intent = paymentIntent(`pi_stub_${this.#sequence}`, form, 'requires_capture');
        this.#intents.set(String(intent.id), intent);
        this.#raise('payment_intent.amount_capturable_updated', intent);
        return { status: 200, body: intent };
      }
    }
  }

  #captureOrCancel(intentId: string, verb: string | undefined, form: Form): StubAnswer {
    const intent = this.#intents.get(intentId);
    if (intent === undefined) return { status: 404, body: { error: { type: 'invalid_request_error', code: 'resource_missing', param: 'intent', message: 'No such payment_intent' } } };
    if (intent.status !== 'requires_capture') {
      return { status: 400, body: { error: { type: 'invalid_request_error', code: 'payment_intent_unexpected_state', message: `This PaymentIntent's status is ${String(intent.status)}`, payment_intent: intent } } };
    }
    if (verb === 'capture') {
      Object.assign(intent, { status: 'succeeded', amount_capturable: 0, amount_received: Number(form.amount_to_capture ?? intent.amount) });
      this.#raise('payment_intent.succeeded', intent);
    } else {
      Object.assign(intent, { status: 'canceled', amount_capturable: 0, canceled_at: Math.floor(Date.now() / 1000) });
      this.#raise('payment_intent.canceled', intent);
    }
    return { status: 200, body: intent };
  }

  #searchIntents(path: string, form: Form): StubAnswer {
    // Only the query the provider sends is understood: metadata['orderId']:'<id>'.
    const orderId = /^metadata\['orderId'\]:'((?:[^'\\]|\\.)*)'$/.exec(form.query ?? '')?.[1]?.replaceAll(/\\(.)/g, '$1');
    if (orderId === undefined) return { status: 400, body: { error: { type: 'invalid_request_error', code: 'parameter_invalid', param: 'query', message: `The stub does not understand the query ${form.query ?? ''}` } } };
    const data = [...this.#intents.values()].filter((intent) => (intent.metadata as Record<string, unknown>).orderId === orderId);
    return { status: 200, body: { object: 'search_result', url: path, has_more: false, data, next_page: null } };
  }

  #refund(form: Form): StubAnswer {
    const intent = this.#intents.get(form.payment_intent ?? '');
    this.#sequence += 1;
    // The charge behind a refunded intent shows the refund, as Stripe's expanded latest_charge does.
    if (intent !== undefined) {
      intent.latest_charge = { id: `ch_stub_${this.#sequence}`, object: 'charge', refunded: true };
      this.#raise('charge.refunded', {
        id: `ch_stub_${this.#sequence}`, object: 'charge', payment_intent: form.payment_intent, refunded: true,
        amount: intent.amount, amount_refunded: Number(form.amount ?? intent.amount), metadata: intent.metadata,
      });
    }
    return {
      status: 200,
      body: {
        id: `re_stub_${this.#sequence}`, object: 'refund', amount: Number(form.amount ?? intent?.amount ?? 0), currency: intent?.currency ?? 'eur',
        payment_intent: form.payment_intent, charge: `ch_stub_${this.#sequence}`, status: 'succeeded', created: Math.floor(Date.now() / 1000), metadata: {},
      },
    };
  }

  #raise(type: string, object: Record<string, unknown>): void {
    this.#sequence += 1;
    const event: StubStripeEvent = { id: `evt_stub_${this.#sequence}`, type, object: structuredClone(object), deliveryStatus: undefined };
    this.events.push(event);
    const target = this.#webhook;
    if (target === undefined) return;
    const payload = JSON.stringify({
      id: event.id, object: 'event', type, api_version: '2025-01-01', created: Math.floor(Date.now() / 1000), livemode: false,
      data: { object: event.object },
    });
    // Stripe sends events on its own schedule, after it answered (or failed to answer) the request.
    const delivery = new Promise<void>((resolve) => { setImmediate(resolve); })
      .then(() => fetch(target.url, {
        method: 'POST', body: payload,
        headers: { 'content-type': 'application/json', 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret: target.secret }) },
      }))
      .then((response) => { event.deliveryStatus = response.status; }, () => { event.deliveryStatus = 0; })
      .finally(() => { this.#inFlight.delete(delivery); });
    this.#inFlight.add(delivery);
  }
}

function paymentIntent(id: string, form: Record<string, string>, status: string): Record<string, unknown> {
  const amount = Number(form.amount);
  return {
    id, object: 'payment_intent', amount, amount_capturable: amount, amount_received: 0, capture_method: form.capture_method ?? 'automatic',
    confirmation_method: 'automatic', currency: form.currency, status, payment_method: form.payment_method,
    metadata: { orderId: form['metadata[orderId]'] }, created: Math.floor(Date.now() / 1000), livemode: false,
    latest_charge: `ch_${id}`, client_secret: `${id}_secret_stub`,
  };
}

function cardError(code: string, declineCode: string, message: string, form: Record<string, string>): { status: number; body: unknown } {
  return {
    status: 402,
    body: {
      error: {
        type: 'card_error', code, decline_code: declineCode, message, param: '', doc_url: `https://stripe.com/docs/error-codes/${code}`,
        payment_intent: paymentIntent('pi_stub_declined', form, 'requires_payment_method'),
      },
    },
  };
}
