import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidWebhookEndpointError } from './delivery.errors.ts';
import { createWebhookEndpoint, rollSecret, signingSecrets } from './webhook-endpoint.ts';

const now = new Date('2026-01-02T03:04:05.000Z');

function invalidField(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (error instanceof InvalidWebhookEndpointError) return error.field;
    throw error;
  }
  assert.fail('expected an InvalidWebhookEndpointError');
}

describe('createWebhookEndpoint', () => {
  test('when the input is valid, then the URL is normalised and repeated event types are kept once', () => {
    const endpoint = createWebhookEndpoint({ url: 'HTTPS://Shop.Example.com/hooks', events: ['orders.confirmed', 'orders.confirmed', 'orders.cancelled'] }, 'whe_1', 'secret', now);
    assert.equal(endpoint.url, 'https://shop.example.com/hooks');
    assert.deepEqual(endpoint.events, ['orders.confirmed', 'orders.cancelled']);
  });

  test('when the URL is not http(s), is relative, or carries credentials, then it is rejected', () => {
    for (const url of ['ftp://example.com/x', 'javascript:alert(1)', '/hooks', 'https://user:pw@example.com/x', `https://example.com/${'x'.repeat(2100)}`]) {
      assert.equal(invalidField(() => createWebhookEndpoint({ url, events: ['orders.confirmed'] }, 'w', 's', now)), 'url', url);
    }
  });

  test('when no event type or an unknown one is given, then it is rejected', () => {
    assert.equal(invalidField(() => createWebhookEndpoint({ url: 'https://example.com', events: [] }, 'w', 's', now)), 'events');
    assert.equal(invalidField(() => createWebhookEndpoint({ url: 'https://example.com', events: ['orders.placed'] }, 'w', 's', now)), 'events');
  });
});

describe('rolling the secret', () => {
  const endpoint = createWebhookEndpoint({ url: 'https://example.com/hooks', events: ['orders.confirmed'] }, 'w', 'old', now);
  const later = (seconds: number) => new Date(now.getTime() + seconds * 1000);

  test('when rolled with an overlap, then both secrets sign until it ends (new first), and only the new one from then on', () => {
    const rolled = rollSecret(endpoint, 'new', now, 60);
    assert.deepEqual(signingSecrets(rolled, later(59)), ['new', 'old']);
    assert.deepEqual(signingSecrets(rolled, later(60)), ['new']);
  });

  test('when rolled again during an overlap, then the oldest secret is dropped: two sign at most', () => {
    const twice = rollSecret(rollSecret(endpoint, 'new', now, 60), 'newer', later(1), 60);
    assert.deepEqual(signingSecrets(twice, later(2)), ['newer', 'new']);
  });

  test('when rolled with no overlap, then the old secret stops at once; a negative, fractional or over-a-week overlap is refused', () => {
    assert.deepEqual(signingSecrets(rollSecret(endpoint, 'new', now, 0), now), ['new']);
    for (const overlap of [-1, 0.5, 7 * 24 * 3600 + 1, Number.NaN]) assert.equal(invalidField(() => rollSecret(endpoint, 'new', now, overlap)), 'overlapSeconds');
  });
});
