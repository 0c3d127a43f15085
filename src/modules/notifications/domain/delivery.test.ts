import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DeliveryNotDeadError } from './delivery.errors.ts';
import { deliveryFailed, deliverySent, planDeliveries, retryDelayMs, reviveDelivery, type Delivery } from './delivery.ts';
import type { NotificationEvent } from './notification-event.ts';
import type { WebhookEndpoint } from './webhook-endpoint.ts';

const now = new Date('2026-01-02T03:04:05.000Z');
const policy = { maxAttempts: 3, baseDelayMs: 1000 };
const event: NotificationEvent = {
  id: 'evt-1', type: 'orders.cancelled', orderId: 'ord_1', occurredAt: now,
  notice: { kind: 'order-cancelled', orderId: 'ord_1', customerEmail: 'ada@example.com', reason: 'out of stock', total: { amount: 100, currency: 'EUR' } },
  data: {},
};
const endpoint = (id: string, events: WebhookEndpoint['events']): WebhookEndpoint => ({ id, url: `https://example.com/${id}`, events, secret: 's', createdAt: now });
let sequence = 0;
const newId = () => `dlv_${(sequence += 1)}`;

function aPendingDelivery(overrides: Partial<Delivery> = {}): Delivery {
  return {
    id: 'dlv_x', eventId: 'evt-1', channel: 'webhook', recipient: 'whe_1', status: 'pending', attempts: 1,
    nextAttemptAt: now, lastError: null, createdAt: now, sentAt: null, ...overrides,
  };
}

describe('planDeliveries', () => {
  test('when endpoints subscribe to different events, then the customer gets an email and only subscribers get a webhook', () => {
    const planned = planDeliveries(event, [endpoint('whe_a', ['orders.cancelled']), endpoint('whe_b', ['orders.confirmed']), endpoint('whe_c', ['orders.confirmed', 'orders.cancelled'])], newId, now);
    assert.deepEqual(planned.map((delivery) => [delivery.channel, delivery.recipient]), [['email', 'ada@example.com'], ['webhook', 'whe_a'], ['webhook', 'whe_c']]);
    assert.ok(planned.every((delivery) => delivery.status === 'pending' && delivery.attempts === 0 && delivery.nextAttemptAt === now && delivery.eventId === 'evt-1'));
    assert.equal(new Set(planned.map((delivery) => delivery.id)).size, 3);
  });
});

describe('retryDelayMs', () => {
  test('when attempts fail one after another, then the ceiling doubles and the jitter stays between half and all of it', () => {
    assert.equal(retryDelayMs(policy, 1, () => 0), 500);
    assert.equal(retryDelayMs(policy, 1, () => 1), 1000);
    assert.equal(retryDelayMs(policy, 3, () => 0), 2000);
    assert.equal(retryDelayMs(policy, 3, () => 1), 4000);
  });
});

describe('deliveryFailed', () => {
  test('when attempts remain, then the delivery stays pending until after a backoff, with the error kept', () => {
    const failed = deliveryFailed(aPendingDelivery({ attempts: 2 }), 'answered 503', policy, now, () => 0.5);
    assert.equal(failed.status, 'pending');
    assert.equal(failed.lastError, 'answered 503');
    assert.equal(failed.nextAttemptAt.getTime() - now.getTime(), 1500);
  });

  test('when the last attempt fails, then the delivery is dead', () => {
    const failed = deliveryFailed(aPendingDelivery({ attempts: 3 }), 'answered 500', policy, now, () => 0.5);
    assert.equal(failed.status, 'dead');
    assert.equal(failed.attempts, 3);
  });
});

describe('deliverySent and reviveDelivery', () => {
  test('when an attempt succeeds, then the delivery is sent at that time', () => {
    const sent = deliverySent(aPendingDelivery(), now);
    assert.equal(sent.status, 'sent');
    assert.equal(sent.sentAt, now);
  });

  test('when a dead delivery is revived, then it is pending now with no attempts counted', () => {
    const revived = reviveDelivery(aPendingDelivery({ status: 'dead', attempts: 3, nextAttemptAt: new Date(0) }), now);
    assert.deepEqual([revived.status, revived.attempts, revived.nextAttemptAt], ['pending', 0, now]);
  });

  test('when a delivery that is not dead is revived, then it is refused', () => {
    for (const status of ['pending', 'sent', 'cancelled'] as const) {
      assert.throws(() => reviveDelivery(aPendingDelivery({ status }), now), DeliveryNotDeadError);
    }
  });
});
