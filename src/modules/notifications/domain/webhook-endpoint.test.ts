import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidWebhookEndpointError } from './delivery.errors.ts';
import { createWebhookEndpoint } from './webhook-endpoint.ts';

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
