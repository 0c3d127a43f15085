import { Agent, request as undiciRequest } from 'undici';
import type { WebhookBody, WebhookSender } from '../../application/ports.ts';
import { checkedLookup, DestinationRefusedError, ipLiteralOf, systemResolveHost, type ResolveHost } from './checked-lookup.ts';
import type { DestinationAddressRule } from './destination-address-rule.ts';
import { signWebhook, webhookHeaders } from './webhook-signature.ts';

/**
 * Posts signed webhooks with undici. Only a 2xx answer within the timeout counts: redirects are
 * not followed (a moved endpoint must be registered again), and anything else fails the attempt.
 *
 * Every connection goes through a checked `lookup`: the host is resolved once, each address is
 * judged by `rule`, and the socket connects to the checked address (TLS name and `Host` stay the
 * host name). An attempt fails with only the class of what went wrong — `refused destination`,
 * `connection failed`, `tls error`, `timeout`, `answered 4xx` — which admins see as the delivery's
 * `lastError`: the exact status or error would tell them what an address they cannot reach answers.
 */
export class HttpWebhookSender implements WebhookSender {
  readonly #timeoutMs: number;
  readonly #nowSeconds: () => number;
  readonly #rule: DestinationAddressRule;
  readonly #resolve: ResolveHost;
  readonly #dispatcher: Agent;

  constructor(options: { timeoutMs: number; rule: DestinationAddressRule; resolveHost?: ResolveHost; nowSeconds?: () => number }) {
    this.#timeoutMs = options.timeoutMs;
    this.#nowSeconds = options.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
    this.#rule = options.rule;
    this.#resolve = options.resolveHost ?? systemResolveHost;
    this.#dispatcher = new Agent({
      connect: { lookup: checkedLookup(this.#rule, this.#resolve), timeout: this.#timeoutMs },
      headersTimeout: this.#timeoutMs,
      bodyTimeout: this.#timeoutMs,
    });
  }

  async send(request: { url: string; secrets: readonly string[]; body: WebhookBody }): Promise<void> {
    const rawBody = JSON.stringify(request.body);
    const timestamp = this.#nowSeconds();
    const signal = AbortSignal.timeout(this.#timeoutMs);
    const url = new URL(request.url);
    // A connection to an IP literal does not ask `lookup`, so the literal is judged here.
    const literal = ipLiteralOf(url.hostname);
    if (literal !== undefined && !this.#rule.allows(literal)) throw new Error(failures.refused);
    let status: number;
    try {
      const response = await undiciRequest(url, {
        dispatcher: this.#dispatcher,
        method: 'POST',
        signal,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'OrderStream-Webhooks/1',
          [webhookHeaders.eventId]: request.body.id,
          [webhookHeaders.eventType]: request.body.type,
          [webhookHeaders.timestamp]: String(timestamp),
          [webhookHeaders.signature]: signWebhook(request.secrets, timestamp, rawBody),
        },
        body: rawBody,
      });
      status = response.statusCode;
      // The answer's body is not needed; discarding it frees the connection.
      await response.body.dump({ limit: 64 * 1024, signal }).catch(() => undefined);
    } catch (error) {
      throw new Error(signal.aborted ? failures.timeout : failureOf(error), { cause: error });
    }
    if (status < 200 || status > 299) throw new Error(`answered ${String(Math.floor(status / 100))}xx`);
  }

  /** Closes the idle connections kept for later deliveries. */
  close(): Promise<void> {
    return this.#dispatcher.close();
  }
}

const failures = {
  refused: 'refused destination',
  timeout: 'timeout',
  tls: 'tls error',
  connection: 'connection failed',
} as const;

const timeoutCodes = new Set(['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** The class of a failed request, from the error and the errors it wraps. */
function failureOf(error: unknown): string {
  const chain = errorChain(error);
  if (chain.some((link) => link instanceof DestinationRefusedError)) return failures.refused;
  const codes = chain.map((link) => (link as { code?: unknown }).code).filter((code): code is string => typeof code === 'string');
  if (codes.some((code) => timeoutCodes.has(code))) return failures.timeout;
  if (codes.some((code) => /TLS|SSL|CERT/.test(code))) return failures.tls;
  return failures.connection;
}

function errorChain(error: unknown, seen = new Set<unknown>()): Error[] {
  if (!(error instanceof Error) || seen.has(error)) return [];
  seen.add(error);
  const nested = error instanceof AggregateError ? (error.errors as unknown[]).flatMap((inner) => errorChain(inner, seen)) : [];
  return [error, ...errorChain(error.cause, seen), ...nested];
}
