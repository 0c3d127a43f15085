import { createHmac } from 'node:crypto';

/** Header names of a webhook request, as documented in docs/webhooks.md. */
export const webhookHeaders = {
  eventId: 'OrderStream-Event-Id',
  eventType: 'OrderStream-Event-Type',
  timestamp: 'OrderStream-Timestamp',
  signature: 'OrderStream-Signature',
} as const;

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" keyed with the endpoint's secret>`. */
export function signWebhook(secret: string, timestamp: number, rawBody: string): string {
  const digest = createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex');
  return `t=${timestamp},v1=${digest}`;
}
