import type { WebhookBody, WebhookSender } from '../../application/ports.ts';
import { signWebhook, webhookHeaders } from './webhook-signature.ts';

/**
 * Posts signed webhooks with `fetch`. Only a 2xx answer within the timeout counts: redirects are
 * not followed (a moved endpoint must be registered again), and anything else fails the attempt.
 */
export class HttpWebhookSender implements WebhookSender {
  readonly #timeoutMs: number;
  readonly #nowSeconds: () => number;

  constructor(options: { timeoutMs: number; nowSeconds?: () => number }) {
    this.#timeoutMs = options.timeoutMs;
    this.#nowSeconds = options.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
  }

  async send(request: { url: string; secret: string; body: WebhookBody }): Promise<void> {
    const rawBody = JSON.stringify(request.body);
    const timestamp = this.#nowSeconds();
    let response: Response;
    try {
      response = await fetch(request.url, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#timeoutMs),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'OrderStream-Webhooks/1',
          [webhookHeaders.eventId]: request.body.id,
          [webhookHeaders.eventType]: request.body.type,
          [webhookHeaders.timestamp]: String(timestamp),
          [webhookHeaders.signature]: signWebhook(request.secret, timestamp, rawBody),
        },
        body: rawBody,
      });
    } catch (error) {
      if (error instanceof DOMException && error.name === 'TimeoutError') throw new Error(`no answer within ${this.#timeoutMs} ms`, { cause: error });
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
      throw new Error(`request failed${cause}`, { cause: error });
    }
    // The answer's body is not needed; discarding it frees the connection.
    await response.body?.cancel().catch(() => undefined);
    if (response.status < 200 || response.status > 299) throw new Error(`answered ${response.status}`);
  }
}
