import { InvalidWebhookEndpointError } from './delivery.errors.ts';
import { isNotifiedEventType, type NotifiedEventType } from './notification-event.ts';

/** An address an admin registered to receive signed order events. */
export interface WebhookEndpoint {
  readonly id: string;
  readonly url: string;
  readonly events: readonly NotifiedEventType[];
  /** Key of the HMAC signature; shown once, when the endpoint is registered. */
  readonly secret: string;
  readonly createdAt: Date;
}

export interface NewWebhookEndpoint {
  url: string;
  events: readonly string[];
}

export const maxWebhookUrlLength = 2048;

/** Validates and builds an endpoint: an http(s) URL without credentials, and at least one known event type. */
export function createWebhookEndpoint(input: NewWebhookEndpoint, id: string, secret: string, now: Date): WebhookEndpoint {
  return { id, url: validUrl(input.url), events: validEvents(input.events), secret, createdAt: now };
}

/** True when the endpoint wants events of this type. */
export function subscribesTo(endpoint: WebhookEndpoint, type: NotifiedEventType): boolean {
  return endpoint.events.includes(type);
}

function validUrl(text: string): string {
  if (text.length > maxWebhookUrlLength) throw new InvalidWebhookEndpointError('url', `must be at most ${maxWebhookUrlLength} characters`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidWebhookEndpointError('url', 'must be an absolute http or https URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidWebhookEndpointError('url', 'must use http or https');
  // Credentials in a URL end up in logs and listings; endpoints authenticate us by the signature instead.
  if (url.username !== '' || url.password !== '') throw new InvalidWebhookEndpointError('url', 'must not contain a user name or password');
  return url.toString();
}

function validEvents(events: readonly string[]): NotifiedEventType[] {
  if (events.length === 0) throw new InvalidWebhookEndpointError('events', 'must name at least one event type');
  const valid: NotifiedEventType[] = [];
  for (const type of events) {
    if (!isNotifiedEventType(type)) throw new InvalidWebhookEndpointError('events', `"${type}" is not an event type endpoints can subscribe to`);
    if (!valid.includes(type)) valid.push(type);
  }
  return valid;
}
