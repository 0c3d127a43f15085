import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { messagingMigrations } from '../../../../platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import { ScheduleDeliveries } from '../../application/schedule-deliveries.ts';
import { deliverySent } from '../../domain/delivery.ts';
import { createWebhookEndpoint } from '../../domain/webhook-endpoint.ts';
import { notificationsMigrations } from '../../index.ts';
import { aConfirmedNotificationEvent, anOrderConfirmed } from '../../testing/order-event-builders.ts';
import { PgDeliveryRepository } from './pg-delivery-repository.ts';
import { PgWebhookEndpointRepository } from './pg-webhook-endpoint-repository.ts';

let db: Database;
let drop: () => Promise<void>;
let deliveries: PgDeliveryRepository;
let endpoints: PgWebhookEndpointRepository;
// Far in the future, so deliveries other tests left due are not claimed by these tests' clocks before theirs.
let tick = 0;
const at = () => new Date(Date.UTC(2030, 0, 1) + (tick += 1000));

before(async () => {
  ({ db, drop } = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, notificationsMigrations]));
  deliveries = new PgDeliveryRepository(db);
  endpoints = new PgWebhookEndpointRepository(db);
});
after(async () => { await drop(); });

async function count(table: string, where = 'true'): Promise<number> {
  const result = await sql<{ count: number }>`select count(*)::int as count from ${sql.raw(table)} where ${sql.raw(where)}`.execute(db);
  return result.rows[0]?.count ?? -1;
}

/** Claims everything due, so each test starts from an empty queue. */
async function drain(): Promise<void> {
  await sql`update notifications.deliveries set status = 'sent' where status = 'pending'`.execute(db);
}

describe('PgDeliveryRepository', () => {
  test('when an event is scheduled twice in separate transactions, or again under another message id, then it has one email and one webhook', async () => {
    const endpoint = createWebhookEndpoint({ url: 'https://example.com/a', events: ['orders.confirmed'] }, `whe_${crypto.randomUUID()}`, 'secret', at());
    await endpoints.add(endpoint);
    const payload = anOrderConfirmed();
    const event = aConfirmedNotificationEvent(payload);
    const schedule = async (scheduled: typeof event) => db.transaction().execute((transaction) =>
      new ScheduleDeliveries({ deliveries: new PgDeliveryRepository(transaction), endpoints: new PgWebhookEndpointRepository(transaction) }).execute(scheduled));
    assert.equal(await schedule(event), 2);
    assert.equal(await schedule(event), 0);
    assert.equal(await schedule(aConfirmedNotificationEvent(payload, crypto.randomUUID())), 0);
    assert.equal(await count('notifications.deliveries', `event_id = '${event.id}'`), 2);
    assert.equal(await count('notifications.events', `order_id = '${payload.orderId}'`), 1);
  });

  test('when the same delivery is added twice, then the unique (event, channel, recipient) keeps one', async () => {
    const event = aConfirmedNotificationEvent();
    await deliveries.recordEvent(event);
    const delivery = { id: `dlv_${crypto.randomUUID()}`, eventId: event.id, channel: 'email' as const, recipient: 'a@example.com', status: 'pending' as const, attempts: 0, nextAttemptAt: at(), lastError: null, createdAt: at(), sentAt: null };
    await deliveries.addDeliveries([delivery]);
    await deliveries.addDeliveries([{ ...delivery, id: `dlv_${crypto.randomUUID()}` }]);
    assert.equal(await count('notifications.deliveries', `event_id = '${event.id}'`), 1);
  });

  test('when a delivery is claimed, then other workers do not see it until its lease ends, and then only the new lease can record', async () => {
    await drain();
    const event = aConfirmedNotificationEvent();
    await deliveries.recordEvent(event);
    const createdAt = at();
    await deliveries.addDeliveries([{ id: `dlv_${crypto.randomUUID()}`, eventId: event.id, channel: 'email', recipient: 'b@example.com', status: 'pending', attempts: 0, nextAttemptAt: createdAt, lastError: null, createdAt, sentAt: null }]);
    const now = at();
    const leaseUntil = new Date(now.getTime() + 60_000);
    const [first] = await deliveries.claimDue({ now, leaseUntil, limit: 10 });
    assert.ok(first);
    assert.equal(first.delivery.attempts, 1);
    assert.equal(first.event.notice.kind, 'order-confirmed');
    assert.equal(first.endpoint, null);
    assert.deepEqual(await deliveries.claimDue({ now: new Date(now.getTime() + 59_000), leaseUntil, limit: 10 }), []);
    const [second] = await deliveries.claimDue({ now: new Date(leaseUntil.getTime() + 1), leaseUntil: new Date(leaseUntil.getTime() + 60_000), limit: 10 });
    assert.equal(second?.delivery.id, first.delivery.id);
    assert.equal(second.delivery.attempts, 2);
    const before = await count('messaging.outbox');
    const announcement = { type: 'notifications.delivered' as const, payload: { deliveryId: first.delivery.id, channel: 'email' as const, eventId: event.id, eventType: event.type, orderId: event.orderId } };
    assert.equal(await deliveries.recordAttempt(first.leaseToken, deliverySent(first.delivery, at()), announcement), false);
    assert.equal(await count('messaging.outbox'), before);
    assert.equal(await deliveries.recordAttempt(second.leaseToken, deliverySent(second.delivery, at()), announcement), true);
    const outbox = await sql<{ type: string; key: string; topic: string; payload: { deliveryId: string } }>`
      select type, key, topic, payload from messaging.outbox where payload->>'deliveryId' = ${first.delivery.id}`.execute(db);
    assert.deepEqual(outbox.rows.map((row) => [row.type, row.key, row.topic]), [['notifications.delivered', event.orderId, 'orderstream.notifications.v1']]);
  });

  test('when many attempts end at once, one of a lost lease among them, then they are recorded together, each as it would be alone', async () => {
    await drain();
    const event = aConfirmedNotificationEvent();
    await deliveries.recordEvent(event);
    const createdAt = at();
    await deliveries.addDeliveries(Array.from({ length: 8 }, (_, index) => ({
      id: `dlv_${crypto.randomUUID()}`, eventId: event.id, channel: 'email' as const, recipient: `c${String(index)}@example.com`,
      status: 'pending' as const, attempts: 0, nextAttemptAt: createdAt, lastError: null, createdAt, sentAt: null,
    })));
    const claims = await deliveries.claimDue({ now: at(), leaseUntil: new Date(Date.UTC(2031, 0, 1)), limit: 10 });
    assert.equal(claims.length, 8);
    // The first outcome is recorded alone; those that arrive meanwhile, together. One lease was taken over.
    const [, lost] = claims;
    assert.ok(lost);
    await sql`update notifications.deliveries set lease_token = gen_random_uuid() where id = ${lost.delivery.id}`.execute(db);
    const announce = (claim: (typeof claims)[number]) => ({
      type: 'notifications.delivered' as const,
      payload: { deliveryId: claim.delivery.id, channel: 'email' as const, eventId: event.id, eventType: event.type, orderId: event.orderId },
    });
    const before = deliveries.recordCounts();

    const recorded = await Promise.all(claims.map((claim) => deliveries.recordAttempt(claim.leaseToken, deliverySent(claim.delivery, at()), announce(claim))));

    const after = deliveries.recordCounts();
    assert.deepEqual([after.transactions - before.transactions, after.outcomes - before.outcomes], [2, 8], 'the first alone, the seven that arrived meanwhile together');
    assert.deepEqual(recorded, claims.map((claim) => claim !== lost));
    const statuses = await sql<{ id: string; status: string }>`select id, status from notifications.deliveries where event_id = ${event.id}`.execute(db);
    for (const row of statuses.rows) assert.equal(row.status, row.id === lost.delivery.id ? 'pending' : 'sent');
    const announced = await sql<{ id: string }>`select payload->>'deliveryId' as id from messaging.outbox where payload->>'eventId' = ${event.id}`.execute(db);
    assert.deepEqual(new Set(announced.rows.map((row) => row.id)), new Set(claims.filter((claim) => claim !== lost).map((claim) => claim.delivery.id)));
  });

  test('when an endpoint is deleted, then its pending deliveries are cancelled, it is not listed, and it gets no new deliveries', async () => {
    const endpoint = createWebhookEndpoint({ url: 'https://example.com/b', events: ['orders.confirmed'] }, `whe_${crypto.randomUUID()}`, 'secret', at());
    await endpoints.add(endpoint);
    const event = aConfirmedNotificationEvent();
    await new ScheduleDeliveries({ deliveries, endpoints }).execute(event);
    assert.equal(await endpoints.delete(endpoint.id, at()), true);
    assert.equal(await endpoints.delete(endpoint.id, at()), false);
    assert.equal(await count('notifications.deliveries', `endpoint_id = '${endpoint.id}' and status = 'cancelled'`), 1);
    assert.ok(!(await endpoints.listSubscribedTo('orders.confirmed')).some((listed) => listed.id === endpoint.id));
    assert.ok(!(await endpoints.list({ limit: 100 })).items.some((listed) => listed.id === endpoint.id));
  });
});
