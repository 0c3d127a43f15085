import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { sql } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { messagingMigrations } from '../../../../platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import { CommitStock } from '../../application/commit-stock.ts';
import type { InventoryStore } from '../../application/ports.ts';
import { ReleaseStock } from '../../application/release-stock.ts';
import { ReserveStock } from '../../application/reserve-stock.ts';
import { RestockOrder } from '../../application/restock-order.ts';
import { inventoryMigrations } from '../../index.ts';
import { BatchInventoryStore } from './batch-inventory-store.ts';
import { PgInventoryStore } from './pg-inventory-store.ts';

/*
 * Model-based: a batch of inventory commands applied by `BatchInventoryStore` (in memory over rows
 * locked up front, written in three statements) must leave what the same commands leave applied one
 * at a time by `PgInventoryStore`, each in its own transaction: the same stock, the same
 * reservations and lines, the same events in the same order. Stock announcements differ by design
 * (the batch announces each SKU once, and only when its available units changed): both must have
 * announced every SKU whose available units changed, and the last announcement of a SKU must give its
 * stored available units. Where the batch refuses (it throws, so the messaging kernel redoes its
 * commands one by one), nothing is compared; most batches must not.
 * MODEL_RUNS=<n> and MODEL_SEED=<n> explore more.
 */

const numRuns = Number(process.env.MODEL_RUNS ?? 60);
const seed = Number(process.env.MODEL_SEED ?? 20_261_204);
const now = new Date('2026-12-04T10:00:00Z');
const orders = ['ord_0', 'ord_1', 'ord_2', 'ord_3'];

type Command =
  | { kind: 'reserve'; orderId: string; lines: { sku: string; quantity: number }[] }
  | { kind: 'commit' | 'release' | 'restock'; orderId: string };

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 3, arbitrary: fc.record({
    kind: fc.constant('reserve' as const), orderId: fc.constantFrom(...orders),
    // SKU C has no stock row: an unknown SKU.
    lines: fc.uniqueArray(fc.record({ sku: fc.constantFrom('A', 'B', 'C'), quantity: fc.integer({ min: 1, max: 4 }) }), { minLength: 1, maxLength: 2, selector: (line) => line.sku }),
  }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('commit' as const), orderId: fc.constantFrom(...orders) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('release' as const, 'restock' as const), orderId: fc.constantFrom(...orders) }) },
);

const useCases = {
  reserve: new ReserveStock({ reservationTtlSeconds: 60, now: () => now }),
  commit: new CommitStock({ now: () => now }),
  release: new ReleaseStock({ now: () => now }),
  restock: new RestockOrder({ now: () => now }),
};

function run(store: InventoryStore, given: Command): Promise<string> {
  switch (given.kind) {
    case 'reserve': return useCases.reserve.execute(store, { orderId: given.orderId, lines: given.lines });
    case 'commit': return useCases.commit.execute(store, { orderId: given.orderId });
    case 'release': return useCases.release.execute(store, { orderId: given.orderId, reason: 'cancelled' });
    case 'restock': return useCases.restock.execute(store, { orderId: given.orderId, reason: 'refunded' });
  }
}

let alone: { db: Database; drop: () => Promise<void> };
let batched: { db: Database; drop: () => Promise<void> };

before(async () => {
  [alone, batched] = await Promise.all([
    createTestDatabase(embeddedServerUrl(), [messagingMigrations, inventoryMigrations]),
    createTestDatabase(embeddedServerUrl(), [messagingMigrations, inventoryMigrations]),
  ]);
});
after(async () => { await Promise.all([alone.drop(), batched.drop()]); });

async function reset(db: Database, stock: { A: number; B: number }): Promise<void> {
  await sql`truncate inventory.reservation_lines, inventory.reservations, inventory.stock_items, messaging.outbox`.execute(db);
  await sql`insert into inventory.stock_items (sku, on_hand, reserved, updated_at) values ('A', ${stock.A}, 0, now()), ('B', ${stock.B}, 0, now())`.execute(db);
}

async function stateOf(db: Database): Promise<unknown> {
  const stock = (await sql`select sku, on_hand, reserved from inventory.stock_items order by sku`.execute(db)).rows;
  const reservations = (await sql`
    select r.order_id, r.status, r.expires_at, r.failure_reason, r.failed_skus,
      (select json_agg(json_build_object('sku', l.sku, 'quantity', l.quantity) order by l.sku) from inventory.reservation_lines l where l.order_id = r.order_id) as lines
    from inventory.reservations r order by r.order_id`.execute(db)).rows;
  const events = (await sql`select type, key, payload from messaging.outbox where type <> 'inventory.stock-changed' order by position`.execute(db)).rows;
  return { stock, reservations, events };
}

/** Checks the stock announcements against the stored stock and the stock a run started from. */
async function assertAnnounced(db: Database, initial: { A: number; B: number }, where: string): Promise<void> {
  const stored = (await sql<{ sku: 'A' | 'B'; available: number; version: number }>`
    select sku, on_hand - reserved as available, version from inventory.stock_items order by sku`.execute(db)).rows;
  const announced = (await sql<{ key: string; payload: { sku: string; available: number; stockVersion: number } }>`
    select key, payload from messaging.outbox where type = 'inventory.stock-changed' order by position`.execute(db)).rows;
  for (const stock of stored) {
    const last = announced.filter((row) => row.key === stock.sku).at(-1)?.payload;
    if (stock.available !== initial[stock.sku]) assert.ok(last !== undefined, `${where}: ${stock.sku} changed and was not announced`);
    if (last === undefined) continue;
    // A change that leaves the available units as they were (a commit) counts a version, unannounced.
    assert.equal(last.available, stock.available, `${where}: the last announcement of ${stock.sku}`);
    assert.ok(last.stockVersion <= stock.version, `${where}: the last announcement of ${stock.sku} is of a version stored`);
    const versions = announced.filter((row) => row.key === stock.sku).map((row) => row.payload.stockVersion);
    assert.deepEqual(versions, [...versions].sort((x, y) => x - y), `${where}: ${stock.sku} is announced in version order`);
  }
}

test('when a batch of inventory commands is applied in memory and written at the end, then it leaves what the same commands leave applied one at a time', async () => {
  let compared = 0;
  let refused = 0;
  await fc.assert(fc.asyncProperty(
    fc.record({ A: fc.integer({ min: 0, max: 6 }), B: fc.integer({ min: 0, max: 6 }) }),
    fc.array(command, { minLength: 1, maxLength: 12 }),
    async (stock, commands) => {
      await Promise.all([reset(alone.db, stock), reset(batched.db, stock)]);
      const outcomesAlone: string[] = [];
      for (const given of commands) {
        outcomesAlone.push(await alone.db.transaction().execute((transaction) => run(new PgInventoryStore(transaction), given)).catch((error: unknown) => `threw ${String(error)}`));
      }
      let outcomesBatched: string[];
      try {
        outcomesBatched = await batched.db.transaction().execute(async (transaction) => {
          const skus = commands.flatMap((given) => (given.kind === 'reserve' ? given.lines.map((line) => line.sku) : []));
          const store = await BatchInventoryStore.lock(transaction, commands.map((given) => given.orderId), skus);
          const outcomes: string[] = [];
          for (const given of commands) outcomes.push(await run(store, given));
          await store.write();
          return outcomes;
        });
      } catch {
        refused += 1;
        return;
      }
      compared += 1;
      assert.deepEqual(outcomesBatched, outcomesAlone);
      assert.deepEqual(await stateOf(batched.db), await stateOf(alone.db));
      await assertAnnounced(alone.db, stock, 'one at a time');
      await assertAnnounced(batched.db, stock, 'batched');
    },
  ), { numRuns, seed });
  assert.ok(compared >= numRuns * 0.8, `most batches were applied (${String(compared)} applied, ${String(refused)} refused)`);
});
