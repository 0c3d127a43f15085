import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';

/** One request the stub received, as Stripe would see it. */
export interface RecordedStripeRequest {
  method: string;
  path: string;
  form: Record<string, string>;
  idempotencyKey: string | undefined;
  authorization: string | undefined;
}

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

export interface StripeStub {
  /** Base URL to give the SDK, e.g. http://127.0.0.1:43121. */
  url: string;
  requests: RecordedStripeRequest[];
  /** Every event the stub raised, in order, whether or not it was delivered. */
  events: StubStripeEvent[];
  /** Delivers every later event to `url`, signed with `secret` as Stripe signs webhooks. */
  sendWebhooksTo(url: string, secret: string): void;
  /**
   * Requests whose path matches are carried out (and their answer kept for a replay of the same
   * idempotency key), but the connection is cut before the answer: a call whose answer is lost.
   */
  loseAnswersTo(path: RegExp | undefined): void;
  /** Resolves once every event raised so far has been delivered (or failed to be). */
  deliveries(): Promise<void>;
  close(): Promise<void>;
}

/** A webhook event as the stub raises it, with the status its delivery got (undefined until delivered, 0 on a network error). */
export interface StubStripeEvent {
  id: string;
  type: string;
  object: Record<string, unknown>;
  deliveryStatus: number | undefined;
}

/**
 * A local stand-in for api.stripe.com: records every request (method, path, form body,
 * Idempotency-Key, Authorization) and answers with PaymentIntent, refund and error JSON shaped
 * like Stripe's. A repeated idempotency key replays the first answer, as Stripe does. Every change
 * to a PaymentIntent raises the event Stripe would raise, delivered signed once a webhook is set.
 */
export async function startStripeStub(): Promise<StripeStub> {
  const requests: RecordedStripeRequest[] = [];
  const replays = new Map<string, { status: number; body: unknown }>();
  const intents = new Map<string, Record<string, unknown>>();
  const events: StubStripeEvent[] = [];
  const inFlight = new Set<Promise<void>>();
  let webhook: { url: string; secret: string } | undefined;
  let losing: RegExp | undefined;
  let sequence = 0;

  function raise(type: string, object: Record<string, unknown>): void {
    sequence += 1;
    const event: StubStripeEvent = { id: `evt_stub_${sequence}`, type, object: structuredClone(object), deliveryStatus: undefined };
    events.push(event);
    const target = webhook;
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
      .finally(() => { inFlight.delete(delivery); });
    inFlight.add(delivery);
  }

  const server = createServer((request, response) => {
    void readBody(request).then((text) => {
      const form = Object.fromEntries(new URLSearchParams(request.method === 'GET' ? (request.url ?? '').split('?')[1] ?? '' : text));
      const idempotencyKey = header(request, 'idempotency-key');
      const path = (request.url ?? '/').split('?')[0] ?? '/';
      requests.push({ method: request.method ?? 'GET', path, form, idempotencyKey, authorization: header(request, 'authorization') });
      const replay = idempotencyKey === undefined ? undefined : replays.get(`${path}|${idempotencyKey}`);
      // The SDK repeats a request whose connection closed once on its own: a lost answer stays lost for it too.
      if (replay !== undefined && losing?.test(path) === true) {
        request.socket.destroy();
        return;
      }
      if (replay !== undefined) {
        send(response, replay.status, replay.body, { 'idempotent-replayed': 'true' });
        return;
      }
      const answer = route(request.method ?? 'GET', path, form);
      if (answer === 'hang') return;
      if (idempotencyKey !== undefined && answer.status < 500) replays.set(`${path}|${idempotencyKey}`, answer);
      if (losing?.test(path) === true) {
        request.socket.destroy();
        return;
      }
      send(response, answer.status, answer.body);
    });
  });

  function route(method: string, path: string, form: Record<string, string>): { status: number; body: unknown } | 'hang' {
    if (method === 'POST' && path === '/v1/payment_intents') {
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
          sequence += 1;
          const intent = paymentIntent(`pi_stub_${sequence}`, form, 'requires_capture');
          intents.set(String(intent.id), intent);
          raise('payment_intent.amount_capturable_updated', intent);
          return { status: 200, body: intent };
        }
      }
    }
    const action = /^\/v1\/payment_intents\/([^/]+)\/(capture|cancel)$/.exec(path);
    if (method === 'POST' && action !== null) {
      const intent = intents.get(action[1] ?? '');
      if (intent === undefined) return { status: 404, body: { error: { type: 'invalid_request_error', code: 'resource_missing', param: 'intent', message: 'No such payment_intent' } } };
      if (intent.status !== 'requires_capture') {
        return { status: 400, body: { error: { type: 'invalid_request_error', code: 'payment_intent_unexpected_state', message: `This PaymentIntent's status is ${String(intent.status)}`, payment_intent: intent } } };
      }
      if (action[2] === 'capture') {
        Object.assign(intent, { status: 'succeeded', amount_capturable: 0, amount_received: Number(form.amount_to_capture ?? intent.amount) });
        raise('payment_intent.succeeded', intent);
      } else {
        Object.assign(intent, { status: 'canceled', amount_capturable: 0, canceled_at: Math.floor(Date.now() / 1000) });
        raise('payment_intent.canceled', intent);
      }
      return { status: 200, body: intent };
    }
    if (method === 'GET' && path === '/v1/payment_intents/search') {
      // Only the query the provider sends is understood: metadata['orderId']:'<id>'.
      const orderId = /^metadata\['orderId'\]:'((?:[^'\\]|\\.)*)'$/.exec(form.query ?? '')?.[1]?.replaceAll(/\\(.)/g, '$1');
      if (orderId === undefined) return { status: 400, body: { error: { type: 'invalid_request_error', code: 'parameter_invalid', param: 'query', message: `The stub does not understand the query ${form.query ?? ''}` } } };
      const data = [...intents.values()].filter((intent) => (intent.metadata as Record<string, unknown>).orderId === orderId);
      return { status: 200, body: { object: 'search_result', url: path, has_more: false, data, next_page: null } };
    }
    const lookedUp = /^\/v1\/payment_intents\/([^/]+)$/.exec(path);
    if (method === 'GET' && lookedUp !== null) {
      const intent = intents.get(lookedUp[1] ?? '');
      if (intent === undefined) return { status: 404, body: { error: { type: 'invalid_request_error', code: 'resource_missing', param: 'intent', message: 'No such payment_intent' } } };
      return { status: 200, body: intent };
    }
    if (method === 'POST' && path === '/v1/refunds') {
      const intent = intents.get(form.payment_intent ?? '');
      sequence += 1;
      // The charge behind a refunded intent shows the refund, as Stripe's expanded latest_charge does.
      if (intent !== undefined) {
        intent.latest_charge = { id: `ch_stub_${sequence}`, object: 'charge', refunded: true };
        raise('charge.refunded', {
          id: `ch_stub_${sequence}`, object: 'charge', payment_intent: form.payment_intent, refunded: true,
          amount: intent.amount, amount_refunded: Number(form.amount ?? intent.amount), metadata: intent.metadata,
        });
      }
      return {
        status: 200,
        body: {
          id: `re_stub_${sequence}`, object: 'refund', amount: Number(form.amount ?? intent?.amount ?? 0), currency: intent?.currency ?? 'eur',
          payment_intent: form.payment_intent, charge: `ch_stub_${sequence}`, status: 'succeeded', created: Math.floor(Date.now() / 1000), metadata: {},
        },
      };
    }
    return { status: 404, body: { error: { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${path})` } } };
  }

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    events,
    sendWebhooksTo: (url, secret) => { webhook = { url, secret }; },
    loseAnswersTo: (path) => { losing = path; },
    deliveries: async () => {
      while (inFlight.size > 0) await Promise.all(inFlight);
    },
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
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

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_stub_${Date.now()}`, ...headers });
  response.end(JSON.stringify(body));
}
