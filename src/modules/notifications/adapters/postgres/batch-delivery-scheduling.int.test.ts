import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { sql } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { createEnvelope, messagingMigrations, type Envelope } from '../../../../platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import { ScheduleDeliveries } from '../../application/schedule-deliveries.ts';
import { createWebhookEndpoint } from '../../domain/webhook-endpoint.ts';
import { notificationsMigrations } from '../../index.ts';
import { toNotificationEvent } from '../messaging/order-events-consumer.ts';
import { anOrderCancelled, anOrderConfirmed } from '../../testing/order-event-builders.ts';
import { BatchDeliveryScheduling } from './batch-delivery-scheduling.ts';
import { PgDeliveryRepository } from './pg-delivery-repository.ts';
import { PgWebhookEndpointRepository } from './pg-webhook-endpoint-repository.ts';

/*
 * Model-based: a batch of order events scheduled by `BatchDeliveryScheduling` (recorded events and
 * subscribed endpoints read up front, rows inserted at the end) must leave what the same events
 * leave scheduled one at a time: the same events, the same deliveries, the same answers — with
 * events announced twice, under the same or another message id, and some recorded before.
 */

const numRuns = Number(process.env.MODEL_RUNS ?? 50);
const seed = Number(process.env.MODEL_SEED ?? 20_261_204);
const now = new Date('2026-12-04T10:00:00Z');
const orders = ['ord_0', 'ord_1', 'ord_2'];
const messageIds = Array.from({ length: 6 }, () => crypto.randomUUID());

const announcement = fc.record({
  orderId: fc.constantFrom(...orders), type: fc.constantFrom('orders.confirmed', 'orders.cancelled'), message: fc.integer({ min: 0, max: messageIds.length - 1 }),
});
type Announcement = typeof announcement extends fc.Arbitrary<infer T> ? T : never;

function envelopeOf({ orderId, type, message }: Announcement): Envelope {
  const envelope = type === 'orders.confirmed'
    ? createEnvelope({ type, version: 1, key: orderId, payload: anOrderConfirmed({ orderId, customer: { id: 'cus_1', email: 'ada@example.com' } }) })
    : createEnvelope({ type, version: 1, key: orderId, payload: anOrderCancelled({ orderId, customer: { id: 'cus_1', email: 'ada@example.com' } }) });
  return { ...envelope, id: messageIds[message] ?? envelope.id, occurredAt: now.toISOString() };
}

let alone: { db: Database; drop: () => Promise<void> };
let batched: { db: Database; drop: () => Promise<void> };

before(async () => {
  [alone, batched] = await Promise.all([
    createTestDatabase(embeddedServerUrl(), [messagingMigrations, notificationsMigrations]),
    createTestDatabase(embeddedServerUrl(), [messagingMigrations, notificationsMigrations]),
  ]);
  for (const { db } of [alone, batched]) {
    await new PgWebhookEndpointRepository(db).add(createWebhookEndpoint({ url: 'https://example.com/hook', events: ['orders.confirmed'] }, 'whe_1', 'secret', now));
  }
});
after(async () => { await Promise.all([alone.drop(), batched.drop()]); });

const scheduling = (deliveries: ConstructorParameters<typeof ScheduleDeliveries>[0]['deliveries'], endpoints: ConstructorParameters<typeof ScheduleDeliveries>[0]['endpoints']) =>
  new ScheduleDeliveries({ deliveries, endpoints, now: () => now });

async function reset(db: Database, recorded: readonly Announcement[]): Promise<void> {
  await sql`truncate notifications.deliveries, notifications.events`.execute(db);
  for (const given of recorded) {
    await db.transaction().execute((transaction) => scheduling(new PgDeliveryRepository(transaction), new PgWebhookEndpointRepository(transaction)).execute(toNotificationEvent(envelopeOf(given))));
  }
}

async function stateOf(db: Database): Promise<unknown> {
  const events = (await sql`select id, order_id, type from notifications.events order by order_id, type`.execute(db)).rows;
  const deliveries = (await sql`select e.order_id, e.type, d.channel, d.recipient, d.status from notifications.deliveries d join notifications.events e on e.id = d.event_id
    order by e.order_id, e.type, d.channel, d.recipient`.execute(db)).rows;
  return { events, deliveries };
}

test('when a batch of order events is scheduled in memory and inserted at the end, then it leaves what the same events leave scheduled one at a time', async () => {
  await fc.assert(fc.asyncProperty(fc.array(announcement, { maxLength: 2 }), fc.array(announcement, { minLength: 1, maxLength: 8 }), async (recorded, announced) => {
    await Promise.all([reset(alone.db, recorded), reset(batched.db, recorded)]);
    const envelopes = announced.map(envelopeOf);
    const answersAlone: number[] = [];
    for (const envelope of envelopes) {
      answersAlone.push(await alone.db.transaction().execute((transaction) => scheduling(new PgDeliveryRepository(transaction), new PgWebhookEndpointRepository(transaction)).execute(toNotificationEvent(envelope))));
    }
    const answersBatched = await batched.db.transaction().execute(async (transaction) => {
      const batch = await BatchDeliveryScheduling.read(transaction, envelopes.map((envelope, index) => ({ id: envelope.id, orderId: announced[index]?.orderId ?? '', type: envelope.type })));
      const answers: number[] = [];
      for (const envelope of envelopes) answers.push(await scheduling(batch, batch).execute(toNotificationEvent(envelope)));
      await batch.write();
      return answers;
    });
    assert.deepEqual(answersBatched, answersAlone);
    assert.deepEqual(await stateOf(batched.db), await stateOf(alone.db));
  }), { numRuns, seed });
});
