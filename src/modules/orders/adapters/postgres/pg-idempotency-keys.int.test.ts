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
import { anOrderRequest, aPlacedOrder, mugProduct, teaProduct } from '../../testing/order-builder.ts';
import { PgIdempotencyKeys } from './pg-idempotency-keys.ts';
import { PgOrderTransactions } from './pg-order-store.ts';

const takeoverAfterSeconds = 1;
const pastTakeoverMs = 1300;

let db: Database;
let drop: () => Promise<void>;

before(async () => { ({ db, drop } = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, ordersMigrations])); });
after(async () => { await drop(); });

const pricesAtOnce: PriceCatalog = { findProducts: () => Promise.resolve([mugProduct, teaProduct]) };

function placeOrderWith(catalog: PriceCatalog): PlaceOrder {
  return new PlaceOrder({
    transactions: new PgOrderTransactions(db),
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

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** What the first, stalled request ended with: its own order, a replay, or an error. */
function settle(placing: Promise<{ order: Order; replayed: boolean }>): Promise<{ order: Order; replayed: boolean } | Error> {
  return placing.catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
}

function assertNeverItsOwnOrder(first: { order: Order; replayed: boolean } | Error, secondOrderId: string): void {
  if (first instanceof Error) {
    assert.ok(first instanceof IdempotencyKeyInUseError, `the stalled request failed with ${first.name}: ${first.message}`);
  } else {
    assert.deepEqual({ id: first.order.id, replayed: first.replayed }, { id: secondOrderId, replayed: true });
  }
}

describe('an Idempotency-Key taken over from a stalled request', () => {
  test('when the first request stalls in the catalogue past the takeover time and a retry places the order, then the first gets the replay, never an order of its own', async () => {
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
    await until(() => Promise.resolve(firstAsked), 'the first request to claim the key');
    await sleep(pastTakeoverMs);

    const second = await placeOrderWith(pricesAtOnce).execute(requestOf('cus_catalog_stall'));
    answer.resolve(undefined);

    assert.equal(second.replayed, false);
    assertNeverItsOwnOrder(await first, second.order.id);
    assert.deepEqual(await ordersOf('cus_catalog_stall'), [second.order.id]);
  });

  test('when a lock on the orders table stalls the first request past the takeover time and a retry takes the key over, then one order exists once both finish', async () => {
    const lock = await holdTableLock(db, 'orders.orders');
    try {
      const first = settle(placeOrderWith(pricesAtOnce).execute(requestOf('cus_lock_stall')));
      await until(async () => (await lock.waiting()) === 1, 'the first request to wait for the lock');
      await sleep(pastTakeoverMs);
      const second = settle(placeOrderWith(pricesAtOnce).execute(requestOf('cus_lock_stall')));
      // The retry took the key over: it waits behind the lock too instead of answering 409.
      await until(async () => (await lock.waiting()) === 2, 'the retry to wait for the lock');
      await lock.release();

      const [firstOutcome, secondOutcome] = [await first, await second];
      const placed = await ordersOf('cus_lock_stall');
      assert.equal(placed.length, 1, `one key placed ${String(placed.length)} orders`);
      assert.ok(!(secondOutcome instanceof Error), `the retry failed: ${secondOutcome instanceof Error ? secondOutcome.message : ''}`);
      assert.deepEqual({ id: secondOutcome.order.id, replayed: secondOutcome.replayed }, { id: placed[0], replayed: false });
      assertNeverItsOwnOrder(firstOutcome, secondOutcome.order.id);
    } finally {
      await lock.release();
    }
  });
});

describe('PgIdempotencyKeys claim tokens', () => {
  test('when a crashed request\'s claim is taken over, then the new claim has its own token and the old one can neither release nor complete the key', async () => {
    const keys = new PgIdempotencyKeys(db, { ttlHours: 24, takeoverAfterSeconds });
    const crashed = await keys.claim('cus_tokens', 'key-1', 'hash-of-the-body');
    assert.ok(crashed.kind === 'claimed');
    assert.equal((await keys.claim('cus_tokens', 'key-1', 'hash-of-the-body')).kind, 'in-progress');
    await sleep(pastTakeoverMs);
    const retry = await keys.claim('cus_tokens', 'key-1', 'hash-of-the-body');
    assert.ok(retry.kind === 'claimed', 'the retry takes the abandoned key over');
    assert.notEqual(retry.claim.token, crashed.claim.token);

    await keys.release(crashed.claim);
    assert.deepEqual(await keys.lookUp('cus_tokens', 'key-1', 'hash-of-the-body'), { kind: 'in-progress' });
    const transactions = new PgOrderTransactions(db);
    const order = aPlacedOrder();
    assert.equal(await transactions.run((store) => store.completeIdempotencyKey(crashed.claim, order)), false);
    assert.equal(await transactions.run((store) => store.completeIdempotencyKey(retry.claim, order)), true);
    assert.equal(await transactions.run((store) => store.completeIdempotencyKey(retry.claim, order)), false, 'a completed key is completed once');
    const answer = await keys.lookUp('cus_tokens', 'key-1', 'hash-of-the-body');
    assert.equal(answer?.kind === 'replay' ? answer.order.id : answer?.kind, order.id);
    await keys.release(retry.claim);
    assert.equal((await keys.lookUp('cus_tokens', 'key-1', 'hash-of-the-body'))?.kind, 'replay', 'a completed key is never released');
  });
});
