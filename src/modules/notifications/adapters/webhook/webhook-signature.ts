import { createHmac } from 'node:crypto';

/** Header names of a webhook request, as documented in docs/webhooks.md. */
export const webhookHeaders = {
  eventId: 'OrderStream-Event-Id',
  eventType: 'OrderStream-Event-Type',
  timestamp: 'OrderStream-Timestamp',
  signature: 'OrderStream-Signature',
} as const;

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" keyed with the endpoint's secret>`, with
 * one `v1=` entry per secret given (current first): during a roll's overlap a receiver that checks
 * any entry against the secret it holds, old or new, accepts the request.
 */
export function signWebhook(secrets: string | readonly string[], timestamp: number, rawBody: string): string {
  const entries = (typeof secrets === 'string' ? [secrets] : secrets)
    .map((secret) => `v1=${createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex')}`);
  return [`t=${timestamp}`, ...entries].join(',');
}
