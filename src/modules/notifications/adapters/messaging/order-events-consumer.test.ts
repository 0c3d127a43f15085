import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { anOrderCancelled, anOrderConfirmed, orderCancelledEnvelope, orderConfirmedEnvelope } from '../../testing/order-event-builders.ts';
import { toNotificationEvent } from './order-events-consumer.ts';

describe('toNotificationEvent', () => {
  test('when an order is confirmed, then the event keeps the envelope id, and the notice the customer, lines and total', () => {
    const envelope = orderConfirmedEnvelope(anOrderConfirmed({ orderId: 'ord_c' }));
    const event = toNotificationEvent(envelope);
    assert.equal(event.id, envelope.id);
    assert.equal(event.type, 'orders.confirmed');
    assert.equal(event.notice.customerEmail, envelope.payload.customer.email);
    assert.equal(event.notice.kind === 'order-confirmed' ? event.notice.lines.length : -1, 2);
    assert.equal(event.data, envelope.payload);
  });

  test('when an order is cancelled, then it is a refund notice exactly when money went back', () => {
    assert.equal(toNotificationEvent(orderCancelledEnvelope(anOrderCancelled({ refunded: null }))).notice.kind, 'order-cancelled');
    const refunded = toNotificationEvent(orderCancelledEnvelope(anOrderCancelled({ refunded: { amount: 500, currency: 'EUR' } })));
    assert.deepEqual(refunded.notice.kind === 'order-refunded' ? refunded.notice.refunded : undefined, { amount: 500, currency: 'EUR' });
  });

  test('when the payload is malformed or the version unknown, then it throws rather than drop the message', () => {
    const envelope = orderConfirmedEnvelope();
    assert.throws(() => toNotificationEvent({ ...envelope, payload: { orderId: 'ord_x' } }));
    assert.throws(() => toNotificationEvent({ ...envelope, version: 2 }), /cannot handle orders\.confirmed v2/);
  });
});
