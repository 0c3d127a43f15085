import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { createDatabase, type Database } from '../../../../platform/database/database.ts';
import { createLogger } from '../../../../platform/logging/logger.ts';
import { messagingMigrations, type MessageConsumer } from '../../../../platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import { createInventoryModule, inventoryMigrations } from '../../index.ts';
import { aCommandEnvelope, deliver, putStock, stockOf } from '../../testing/inventory-database.ts';
import { anOrderId } from '../../testing/inventory-builders.ts';

// Concurrency is proven with many connections, so that many inbox transactions really hold and wait
// for stock locks at the same time (the test database's own pool has five).
const connections = 24;

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let db: Database;
let consumers: MessageConsumer[];

before(async () => {
  database = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, inventoryMigrations]);
  // Far more transactions than connections are sent at once on purpose; what is proven is the stock
  // locks, so the pool may keep them waiting longer than a request would be.
  db = createDatabase({ url: database.url, poolSize: connections, limits: { acquireTimeoutMs: 120_000 } });
  consumers = createInventoryModule({ db, logger: createLogger({ level: 'silent' }), reservationTtlSeconds: 900 }).consumers;
});
after(async () => {
  await db.destroy();
  await database.drop();
});

type Lines = { sku: string; quantity: number }[];

/** Sends every order's reserve command at once, each in its own inbox transaction; returns the failures delivery threw. */
async function reserveAllAtOnce(orders: readonly { orderId: string; lines: Lines }[]): Promise<unknown[]> {
  const results = await Promise.allSettled(orders.map((order) => deliver(db, consumers, aCommandEnvelope('reserveStock', order))));
  return results.filter((result) => result.status === 'rejected').map((result) => result.reason as unknown);
}

/** What inventory answered each order: the type of the event it queued for it. */
async function outcomes(orderIds: readonly string[]): Promise<Map<string, string>> {
  const result = await sql<{ key: string; type: string }>`
    select key, type from messaging.outbox where key = any(${orderIds}::text[])`.execute(db);
  assert.equal(result.rows.length, orderIds.length, 'every order got exactly one answer');
  return new Map(result.rows.map((row) => [row.key, row.type]));
}

function describeFailures(failures: readonly unknown[]): string {
  return failures.map((failure) => `${(failure as { code?: string }).code ?? '-'} ${String(failure)}`).join('\n');
}

/** A small deterministic generator, so a failing run can be repeated. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describe('no oversell', () => {
  test('when 200 single-unit orders reserve 50 units at once, then exactly 50 are reserved, 150 fail, and nothing deadlocks', async () => {
    await putStock(db, 'HOT-1', 50);
    const orders = Array.from({ length: 200 }, () => ({ orderId: anOrderId(), lines: [{ sku: 'HOT-1', quantity: 1 }] }));

    const failures = await reserveAllAtOnce(orders);

    assert.deepEqual(failures, [], describeFailures(failures));
    const answers = [...(await outcomes(orders.map((order) => order.orderId))).values()];
    assert.equal(answers.filter((type) => type === 'inventory.reserved').length, 50);
    assert.equal(answers.filter((type) => type === 'inventory.reservation-failed').length, 150);
    assert.deepEqual(await stockOf(db, 'HOT-1'), { onHand: 50, reserved: 50 });
    const active = await sql<{ count: number }>`
      select count(*)::int as count from inventory.reservations where status = 'active' and order_id = any(${orders.map((order) => order.orderId)}::text[])`.execute(db);
    assert.equal(active.rows[0]?.count, 50);
  });
});

describe('no deadlock', () => {
  test('when multi-line orders list the same four SKUs in different orders and reserve at once, then none deadlocks and reserved matches the successes', async () => {
    const skus = ['MIX-A', 'MIX-B', 'MIX-C', 'MIX-D'];
    for (const sku of skus) await putStock(db, sku, 60);
    const random = seededRandom(20_260_101);
    const orders = Array.from({ length: 160 }, () => {
      // Two to four distinct SKUs in a shuffled order, sometimes with a SKU repeated in a second line.
      const chosen = [...skus].sort(() => random() - 0.5).slice(0, 2 + Math.floor(random() * 3));
      const lines: Lines = chosen.map((sku) => ({ sku, quantity: 1 + Math.floor(random() * 3) }));
      const first = lines[0];
      if (first !== undefined && random() < 0.25) lines.push({ sku: first.sku.toLowerCase(), quantity: 1 });
      return { orderId: anOrderId(), lines };
    });

    const failures = await reserveAllAtOnce(orders);

    assert.deepEqual(failures, [], describeFailures(failures));
    const answers = await outcomes(orders.map((order) => order.orderId));
    const expectedReserved = new Map(skus.map((sku) => [sku, 0]));
    for (const order of orders) {
      if (answers.get(order.orderId) !== 'inventory.reserved') continue;
      for (const line of order.lines) {
        const sku = line.sku.toUpperCase();
        expectedReserved.set(sku, (expectedReserved.get(sku) ?? 0) + line.quantity);
      }
    }
    const succeeded = [...answers.values()].filter((type) => type === 'inventory.reserved').length;
    assert.ok(succeeded > 0 && succeeded < orders.length, `contention should leave some orders short; ${succeeded} of ${orders.length} succeeded`);
    for (const sku of skus) {
      const stock = await stockOf(db, sku);
      assert.ok(stock, sku);
      assert.equal(stock.reserved, expectedReserved.get(sku), sku);
      assert.ok(stock.reserved <= stock.onHand, `${sku} oversold: ${JSON.stringify(stock)}`);
    }
  });
});
