import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { messagingMigrations } from '../../../../platform/messaging/index.ts';
import { holdTableLock } from '../../../../platform/testing/table-lock.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import { IdempotencyKeyInUseError } from '../../application/idempotency.errors.ts';
import { PlaceOrder, type PlaceOrderInput } from '../../application/place-order.ts';
import type { PriceCatalog } from '../../application/ports.ts';
import type { Order } from '../../domain/order.ts';
import { ordersMigrations } from '../../index.ts';
import { anOrderRequest, mugProduct, teaProduct } from '../../testing/order-builder.ts';
import { PgIdempotencyKeys } from './pg-idempotency-keys.ts';

const takeoverAfterSeconds = 1;
const pastTakeoverMs = 1300;

let db: Database;
let drop: () => Promise<void>;

before(async () => { ({ db, drop } = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, ordersMigrations])); });
after(async () => { await drop(); });

const pricesAtOnce: PriceCatalog = { findProducts: () => Promise.resolve([mugProduct, teaProduct]) };

function placeOrderWith(catalog: PriceCatalog): PlaceOrder {
  return new PlaceOrder({
    idempotencyKeys: new PgIdempotencyKeys(db, { ttlHours: 24, takeoverAfterSeconds }),
    catalog,
    stepTimeoutMs: 60_000,
  });
}

function requestOf(customerId: string): PlaceOrderInput {
  return { ...anOrderRequest({ customer: { id: customerId, email: `${customerId}@example.com` } }), idempotencyKey: 'key-1', requestHash: 'hash-of-the-body' };
}

async function ordersOf(customerId: string): Promise<string[]> {
  const rows = await sql<{ id: string }>`select id from orders.orders where customer_id = ${customerId}`.execute(db);
  return rows.rows.map((row) => row.id);
}

/** The outbox's messages about these orders, by type. */
async function messagesAbout(orderIds: readonly string[]): Promise<string[]> {
  const rows = await sql<{ type: string }>`select type from messaging.outbox where key = any(${orderIds}::text[]) order by position`.execute(db);
  return rows.rows.map((row) => row.type);
}

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** What a request ended with: an order (its own or a replay), or an error. */
function settle(placing: Promise<{ order: Order; replayed: boolean }>): Promise<{ order: Order; replayed: boolean } | Error> {
  return placing.catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
}

/** Claims the key as a version that claimed keys before placing did, `secondsAgo` seconds ago. */
async function claimAsAnEarlierVersion(customerId: string, secondsAgo: number): Promise<void> {
  await sql`
    insert into orders.idempotency_keys (customer_id, key, request_hash, state, claim_token, claimed_at, expires_at)
    values (${customerId}, 'key-1', 'hash-of-the-body', 'in-progress', ${crypto.randomUUID()}, now() - make_interval(secs => ${secondsAgo}), now() + interval '1 day')`.execute(db);
}

describe('placing an order under its Idempotency-Key in one statement', () => {
  test('when two requests with one key are held by a lock on the orders table and then run at once, then one order is placed with its messages, and both answer it', async () => {
    const lock = await holdTableLock(db, 'orders.orders');
    try {
      const first = settle(placeOrderWith(pricesAtOnce).execute(requestOf('cus_lock_stall')));
      const second = settle(placeOrderWith(pricesAtOnce).execute(requestOf('cus_lock_stall')));
      await until(async () => (await lock.waiting()) === 2, 'both requests to wait for the lock');
      await lock.release();

      const outcomes = [await first, await second];
      const placed = await ordersOf('cus_lock_stall');
      assert.equal(placed.length, 1, `one key placed ${String(placed.length)} orders`);
      for (const outcome of outcomes) {
        assert.ok(!(outcome instanceof Error), `a request failed: ${outcome instanceof Error ? outcome.message : ''}`);
        assert.equal(outcome.order.id, placed[0]);
      }
      assert.deepEqual(outcomes.map((outcome) => !(outcome instanceof Error) && outcome.replayed).sort(), [false, true]);
      assert.deepEqual(await messagesAbout(placed), ['orders.placed', 'inventory.reserve-stock']);
    } finally {
      await lock.release();
    }
  });

  test('when the first request stalls in the catalogue and a retry places the order meanwhile, then the first answers that order as a replay and writes nothing', async () => {
    const answer = Promise.withResolvers<undefined>();
    let firstAsked = false;
    const stalledCatalog: PriceCatalog = {
      findProducts: async () => {
        firstAsked = true;
        await answer.promise;
        return [mugProduct, teaProduct];
      },
    };
    const first = settle(placeOrderWith(stalledCatalog).execute(requestOf('cus_catalog_stall')));
    await until(() => Promise.resolve(firstAsked), 'the first request to ask the catalogue');

    const second = await placeOrderWith(pricesAtOnce).execute(requestOf('cus_catalog_stall'));
    answer.resolve(undefined);

    assert.equal(second.replayed, false);
    const firstOutcome = await first;
    assert.ok(!(firstOutcome instanceof Error), `the first request failed: ${firstOutcome instanceof Error ? firstOutcome.message : ''}`);
    assert.deepEqual({ id: firstOutcome.order.id, replayed: firstOutcome.replayed }, { id: second.order.id, replayed: true });
    assert.deepEqual(await ordersOf('cus_catalog_stall'), [second.order.id]);
    assert.deepEqual(await messagesAbout([second.order.id]), ['orders.placed', 'inventory.reserve-stock']);
  });

  test('when an earlier version\'s claim holds the key in progress, then a request gets 409 until the takeover time and then places the order', async () => {
    await claimAsAnEarlierVersion('cus_claimed_before', 0);
    await assert.rejects(placeOrderWith(pricesAtOnce).execute(requestOf('cus_claimed_before')), IdempotencyKeyInUseError);
    assert.deepEqual(await ordersOf('cus_claimed_before'), []);

    await sleep(pastTakeoverMs);
    const placed = await placeOrderWith(pricesAtOnce).execute(requestOf('cus_claimed_before'));
    assert.equal(placed.replayed, false);
    assert.deepEqual(await ordersOf('cus_claimed_before'), [placed.order.id]);
    const keys = new PgIdempotencyKeys(db, { ttlHours: 24, takeoverAfterSeconds });
    const answer = await keys.lookUp('cus_claimed_before', 'key-1', 'hash-of-the-body');
    assert.equal(answer?.kind === 'replay' ? answer.order.id : answer?.kind, placed.order.id);
  });
});
