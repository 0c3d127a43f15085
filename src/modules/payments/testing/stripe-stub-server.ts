import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StubStripeAccount, type StubAnswer, type StubStripeEvent } from './stripe-stub-account.ts';

export { stubPaymentMethods, type StubStripeEvent } from './stripe-stub-account.ts';

/** One request the stub received, as Stripe would see it. */
export interface RecordedStripeRequest {
  method: string;
  path: string;
  form: Record<string, string>;
  idempotencyKey: string | undefined;
  authorization: string | undefined;
}

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

/**
 * A local stand-in for api.stripe.com: records every request (method, path, form body,
 * Idempotency-Key, Authorization) and answers with PaymentIntent, refund and error JSON shaped
 * like Stripe's. A repeated idempotency key replays the first answer, as Stripe does. Every change
 * to a PaymentIntent raises the event Stripe would raise, delivered signed once a webhook is set.
 */
export async function startStripeStub(): Promise<StripeStub> {
  const requests: RecordedStripeRequest[] = [];
  const replays = new Map<string, { status: number; body: unknown }>();
  const account = new StubStripeAccount();
  let losing: RegExp | undefined;

  const server = createServer((request, response) => {
    void readBody(request).then((text) => {
      const form = Object.fromEntries(new URLSearchParams(request.method === 'GET' ? (request.url ?? '').split('?')[1] ?? '' : text));
      const idempotencyKey = header(request, 'idempotency-key');
      const path = (request.url ?? '/').split('?')[0] ?? '/';
      requests.push({ method: request.method ?? 'GET', path, form, idempotencyKey, authorization: header(request, 'authorization') });
      const replay = idempotencyKey === undefined ? undefined : replays.get(`${path}|${idempotencyKey}`);
      const answer: StubAnswer = replay ?? account.answer(request.method ?? 'GET', path, form);
      if (replay === undefined && answer !== 'hang' && idempotencyKey !== undefined && answer.status < 500) replays.set(`${path}|${idempotencyKey}`, answer);
      respond(request, response, answer, { replayed: replay !== undefined, losing: () => losing?.test(path) === true });
    });
  });

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    events: account.events,
    sendWebhooksTo: (url, secret) => { account.sendWebhooksTo(url, secret); },
    loseAnswersTo: (path) => { losing = path; },
    deliveries: () => account.deliveries(),
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/**
 * Sends an answer, or cuts the connection instead when answers to its path are being lost. The SDK
 * repeats a request whose connection closed once on its own: a lost answer stays lost for its replay too.
 */
function respond(request: IncomingMessage, response: ServerResponse, answer: StubAnswer, how: { replayed: boolean; losing: () => boolean }): void {
  if (answer === 'hang') return;
  if (how.losing()) {
    request.socket.destroy();
    return;
  }
  send(response, answer.status, answer.body, how.replayed ? { 'idempotent-replayed': 'true' } : {});
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
