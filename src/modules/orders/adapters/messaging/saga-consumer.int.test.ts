import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { createLogger } from '../../../../platform/logging/logger.ts';
import {
  appendToOutbox, createEnvelope, createMessaging, InProcessTransport, listDeadLetters, messagingMigrations,
} from '../../../../platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import { inventoryMessages } from '../../../inventory/contract.ts';
import { paymentsMessages } from '../../../payments/contract.ts';
import { AdvanceSaga } from '../../application/advance-saga.ts';
import { placeOrder } from '../../domain/order.ts';
import { ordersMigrations } from '../../index.ts';
import { anOrderRequest, mugProduct, teaProduct } from '../../testing/order-builder.ts';
import { PgOrderTransactions } from '../postgres/pg-order-store.ts';
import { sagaConsumer } from './saga-consumer.ts';

describe('sagaConsumer', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;

  before(async () => {
    database = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, ordersMigrations]);
  });

  after(async () => {
    await database.drop();
  });

  test('when an event payload breaks the contract, then the saga never sees it and it ends as a dead letter saying why', async () => {
    const advanced: string[] = [];
    // Only `execute` is reached by the consumer; the saga's rules have their own tests.
    const advanceSaga = {
      execute: (_store: unknown, orderId: string) => { advanced.push(orderId); return Promise.resolve(() => undefined); },
    } as unknown as AdvanceSaga;
    const messaging = createMessaging({
      db: database.db, transport: new InProcessTransport(), logger: createLogger({ level: 'silent' }),
      retryPolicy: { maxAttempts: 2, baseDelayMs: 10 }, pollIntervalMs: 20,
    });
    messaging.register(sagaConsumer(advanceSaga));
    await messaging.start();
    const envelope = createEnvelope({ ...paymentsMessages.captured, key: 'ord_1', payload: { orderId: 'ord_1', amount: 'all of it' } });
    try {
      await database.db.transaction().execute((transaction) => appendToOutbox(transaction, [envelope]));
      const deadline = Date.now() + 20_000;
      while (!(await listDeadLetters(database.db, { limit: 10 })).some((letter) => letter.messageId === envelope.id)) {
        if (Date.now() > deadline) assert.fail('the malformed event was never dead-lettered');
        await sleep(20);
      }
    } finally {
      await messaging.stop();
    }

    const letters = await listDeadLetters(database.db, { limit: 10 });
    assert.equal(letters.length, 1);
    const [letter] = letters;
    assert.ok(letter);
    assert.equal(letter.consumer, 'orders.saga');
    assert.equal(letter.attempts, 2);
    assert.match(letter.lastError, /payments\.captured .* malformed payload[\s\S]*paymentId/);
    assert.deepEqual(advanced, []);
  });

  test('when a batch carries every step of many orders, then each order ends CONFIRMED with its whole timeline, written in one statement for the batch', async () => {
    const orders = Array.from({ length: 20 }, (_, index) => placeOrder(anOrderRequest(), [mugProduct, teaProduct], `ord_batch_${String(index)}`, new Date(), 30_000));
    const transactions = new PgOrderTransactions(database.db);
    for (const order of orders) await transactions.run((store) => store.insert(order, []));
    // Each order's four events, in its saga's order, orders interleaved: one relay pass, one batch.
    const steps = [
      (orderId: string) => createEnvelope({ ...inventoryMessages.reserved, key: orderId, payload: { orderId, expiresAt: new Date(Date.now() + 60_000).toISOString() } }),
      (orderId: string) => createEnvelope({ ...paymentsMessages.authorized, key: orderId, payload: { orderId, paymentId: `pay_${orderId}`, amount: { amount: 3048, currency: 'EUR' } } }),
      (orderId: string) => createEnvelope({ ...paymentsMessages.captured, key: orderId, payload: { orderId, paymentId: `pay_${orderId}`, amount: { amount: 3048, currency: 'EUR' } } }),
      (orderId: string) => createEnvelope({ ...inventoryMessages.committed, key: orderId, payload: { orderId } }),
    ];
    await database.db.transaction().execute((transaction) => appendToOutbox(transaction, steps.flatMap((step) => orders.map((order) => step(order.id)))));

    const prototype = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
    const original = prototype.query;
    const orderWrites: string[] = [];
    prototype.query = function counted(this: pg.Client, ...args: unknown[]): unknown {
      const [first] = args;
      const text = typeof first === 'string' ? first : (first as { text?: string } | null)?.text;
      if (text !== undefined && /^\s*update\s+"?orders"?\."?orders"?/i.test(text)) orderWrites.push(text);
      return original.apply(this, args);
    };
    const messaging = createMessaging({
      db: database.db, transport: new InProcessTransport(), logger: createLogger({ level: 'silent' }),
      retryPolicy: { maxAttempts: 2, baseDelayMs: 10 }, pollIntervalMs: 20,
    });
    messaging.register(sagaConsumer(new AdvanceSaga({ stepTimeoutMs: 30_000 })));
    try {
      await messaging.start();
      const deadline = Date.now() + 20_000;
      const statuses = async () => (await sql<{ status: string; version: number; steps: number }>`
        select status, version, jsonb_array_length(timeline)::int as steps from orders.orders where id like 'ord_batch_%'`.execute(database.db)).rows;
      while ((await statuses()).some((row) => row.status !== 'CONFIRMED')) {
        if (Date.now() > deadline) assert.fail(`the orders did not all confirm: ${JSON.stringify(await statuses())}`);
        await sleep(20);
      }
      const confirmed = await statuses();
      for (const row of confirmed) assert.deepEqual([row.status, row.version], ['CONFIRMED', (orders[0]?.version ?? Number.NaN) + 4]);
      assert.equal(new Set(confirmed.map((row) => row.steps)).size, 1, 'every order has the same timeline');
      assert.ok((confirmed[0]?.steps ?? 0) > 4, 'the timeline records each step');
    } finally {
      await messaging.stop();
      prototype.query = original;
    }
    assert.deepEqual(orderWrites.length, 1, `the batch's order updates in one statement, not ${String(orderWrites.length)}`);
    // What the test appended, what placing wrote, and what the saga asked for and announced: once per order.
    const messages = await sql<{ type: string; count: number }>`
      select type, count(*)::int as count from messaging.outbox where key like 'ord_batch_%' group by type order by type`.execute(database.db);
    assert.deepEqual(messages.rows, [
      'inventory.commit-stock', 'inventory.committed', 'inventory.reserved', 'orders.confirmed', 'orders.placed',
      'payments.authorize-payment', 'payments.authorized', 'payments.capture-payment', 'payments.captured',
    ].map((type) => ({ type, count: 20 })));
  });
});
