import { InvalidWebhookEndpointError } from './delivery.errors.ts';
import { isNotifiedEventType, type NotifiedEventType } from './notification-event.ts';

/** An address an admin registered to receive signed order events. */
export interface WebhookEndpoint {
  readonly id: string;
  readonly url: string;
  readonly events: readonly NotifiedEventType[];
  /** Key of the HMAC signature; shown once, when the endpoint is registered or its secret rolled. */
  readonly secret: string;
  /** After a roll: the secret it replaced, which still signs beside `secret` until `expiresAt`. */
  readonly previousSecret?: { readonly secret: string; readonly expiresAt: Date };
  readonly createdAt: Date;
}

/** Default overlap of a rolled secret: a day for receivers to switch to the new one. */
export const defaultSecretRollOverlapSeconds = 24 * 60 * 60;
/** Longest overlap a roll may ask for: a week. */
export const maxSecretRollOverlapSeconds = 7 * 24 * 60 * 60;

/** Throws InvalidWebhookEndpointError unless `overlapSeconds` is a whole number from 0 to a week. */
export function checkOverlapSeconds(overlapSeconds: number): void {
  if (!Number.isInteger(overlapSeconds) || overlapSeconds < 0 || overlapSeconds > maxSecretRollOverlapSeconds) {
    throw new InvalidWebhookEndpointError('overlapSeconds', `must be a whole number of seconds from 0 to ${maxSecretRollOverlapSeconds}`);
  }
}

/**
 * The secrets a delivery attempt at `now` is signed with: the current one first, then the previous
 * one while its overlap lasts. A receiver holding either accepts the delivery.
 */
export function signingSecrets(endpoint: WebhookEndpoint, now: Date): string[] {
  const previous = endpoint.previousSecret;
  return previous !== undefined && previous.expiresAt.getTime() > now.getTime() ? [endpoint.secret, previous.secret] : [endpoint.secret];
}

/**
 * The endpoint with `newSecret` current and its secret kept for `overlapSeconds` (0: dropped at
 * once, for a secret that leaked). A previous secret from an earlier roll is dropped: two sign at most.
 */
export function rollSecret(endpoint: WebhookEndpoint, newSecret: string, now: Date, overlapSeconds: number): WebhookEndpoint {
  checkOverlapSeconds(overlapSeconds);
  const rolled = { id: endpoint.id, url: endpoint.url, events: endpoint.events, secret: newSecret, createdAt: endpoint.createdAt };
  return overlapSeconds === 0
    ? rolled
    : { ...rolled, previousSecret: { secret: endpoint.secret, expiresAt: new Date(now.getTime() + overlapSeconds * 1000) } };
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
