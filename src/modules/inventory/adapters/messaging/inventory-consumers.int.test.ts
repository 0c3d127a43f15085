import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { createLogger } from '../../../../platform/logging/logger.ts';
import {
  appendToOutbox, createMessaging, InProcessTransport, messagingMigrations, type MessageConsumer,
} from '../../../../platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import { ExpireReservations } from '../../application/expire-reservations.ts';
import { createInventoryModule, inventoryMigrations } from '../../index.ts';
import {
  aCommandEnvelope, backdateReservation, deliver, eventsOf, putStock, reservationStatusOf, stockAnnouncementsOf, stockOf,
} from '../../testing/inventory-database.ts';
import { aReserveCommand, anOrderId } from '../../testing/inventory-builders.ts';
import { PgInventoryTransactions } from '../postgres/pg-inventory-store.ts';

const logger = createLogger({ level: 'silent' });
let db: Database;
let drop: () => Promise<void>;
let consumers: MessageConsumer[];
let inventory: ReturnType<typeof createInventoryModule>;

before(async () => {
  ({ db, drop } = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, inventoryMigrations]));
  inventory = createInventoryModule({ db, logger, reservationTtlSeconds: 900 });
  consumers = inventory.consumers;
});
after(async () => {
  await drop();
});

const send = (name: Parameters<typeof aCommandEnvelope>[0], payload: { orderId: string } & Record<string, unknown>) => deliver(db, consumers, aCommandEnvelope(name, payload));
const reserve = (orderId: string, lines: { sku: string; quantity: number }[]) => send('reserveStock', { orderId, lines });
const release = (orderId: string) => send('releaseStock', { orderId, reason: 'cancelled' });
const commit = (orderId: string) => send('commitStock', { orderId });
const restock = (orderId: string) => send('restock', { orderId, reason: 'refunded' });
const typesOf = async (orderId: string) => (await eventsOf(db, orderId)).map((event) => event.type);
const sweepOnce = () => new PgInventoryTransactions(db).run((store) => new ExpireReservations().execute(store, 100));

/** Waits until `condition` holds, failing after a deadline generous enough for a loaded machine. */
async function eventually(description: string, condition: () => Promise<boolean>, deadlineMs = 20_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${description}`);
    await sleep(20);
  }
}

describe('reserve-stock', () => {
  test('when every line is available, then the units are reserved and inventory.reserved carries the expiry', async () => {
    await putStock(db, 'R-A', 10);
    await putStock(db, 'R-B', 10);
    const orderId = anOrderId();
    const before = Date.now();
    await reserve(orderId, [{ sku: 'r-a', quantity: 2 }, { sku: 'R-B', quantity: 1 }, { sku: 'R-A', quantity: 3 }]);
    assert.deepEqual(await stockOf(db, 'R-A'), { onHand: 10, reserved: 5 });
    assert.deepEqual(await stockOf(db, 'R-B'), { onHand: 10, reserved: 1 });
    const [event] = await eventsOf(db, orderId);
    assert.equal(event?.type, 'inventory.reserved');
    const expiresAt = Date.parse(String(event.payload.expiresAt));
    assert.ok(expiresAt >= before + 900_000 && expiresAt <= Date.now() + 900_000, String(event.payload.expiresAt));
  });

  test('when one line is short, then nothing is reserved and reservation-failed names the short SKU', async () => {
    await putStock(db, 'S-A', 10);
    await putStock(db, 'S-B', 1);
    const orderId = anOrderId();
    await reserve(orderId, [{ sku: 'S-A', quantity: 2 }, { sku: 'S-B', quantity: 2 }]);
    assert.deepEqual(await stockOf(db, 'S-A'), { onHand: 10, reserved: 0 });
    assert.deepEqual(await eventsOf(db, orderId), [
      { type: 'inventory.reservation-failed', payload: { orderId, reason: 'insufficient-stock', skus: ['S-B'] } },
    ]);
  });

  test('when a SKU is unknown, then nothing is reserved and reservation-failed names it', async () => {
    await putStock(db, 'U-A', 10);
    const orderId = anOrderId();
    await reserve(orderId, [{ sku: 'U-A', quantity: 1 }, { sku: 'no-such-sku', quantity: 1 }]);
    assert.deepEqual(await stockOf(db, 'U-A'), { onHand: 10, reserved: 0 });
    assert.deepEqual(await eventsOf(db, orderId), [
      { type: 'inventory.reservation-failed', payload: { orderId, reason: 'unknown-sku', skus: ['NO-SUCH-SKU'] } },
    ]);
  });

  test('when a second, different reserve command arrives for the order, then its outcome is re-announced and nothing more is reserved', async () => {
    await putStock(db, 'AGAIN-A', 10);
    const orderId = anOrderId();
    await reserve(orderId, [{ sku: 'AGAIN-A', quantity: 2 }]);
    assert.equal(await reserve(orderId, [{ sku: 'AGAIN-A', quantity: 5 }]), 'handled');
    assert.deepEqual(await stockOf(db, 'AGAIN-A'), { onHand: 10, reserved: 2 });
    const events = await eventsOf(db, orderId);
    assert.deepEqual(events.map((event) => event.type), ['inventory.reserved', 'inventory.reserved']);
    assert.equal(events[1]?.payload.expiresAt, events[0]?.payload.expiresAt);
  });

  test('when a failed order is reserved again after stock arrived, then the failure is re-announced and nothing is reserved', async () => {
    const orderId = anOrderId();
    await reserve(orderId, [{ sku: 'LATE-A', quantity: 1 }]);
    await putStock(db, 'LATE-A', 10);
    await reserve(orderId, [{ sku: 'LATE-A', quantity: 1 }]);
    assert.deepEqual(await stockOf(db, 'LATE-A'), { onHand: 10, reserved: 0 });
    const events = await eventsOf(db, orderId);
    assert.deepEqual(events.map((event) => event.payload.reason), ['unknown-sku', 'unknown-sku']);
  });

  test('when the same message is delivered twice, then the second delivery is a duplicate with no effect', async () => {
    await putStock(db, 'DUP-A', 10);
    const envelope = aCommandEnvelope('reserveStock', aReserveCommand([{ sku: 'DUP-A', quantity: 3 }]));
    assert.equal(await deliver(db, consumers, envelope), 'handled');
    assert.equal(await deliver(db, consumers, envelope), 'duplicate');
    assert.deepEqual(await stockOf(db, 'DUP-A'), { onHand: 10, reserved: 3 });
    assert.equal((await eventsOf(db, envelope.key)).length, 1);
  });

  test('when a quantity is not a positive integer, then the delivery throws and nothing is recorded', async () => {
    await putStock(db, 'ZERO-A', 10);
    const orderId = anOrderId();
    await assert.rejects(reserve(orderId, [{ sku: 'ZERO-A', quantity: 0 }]), /quantity/);
    await assert.rejects(send('reserveStock', { orderId }), /payload is not valid/);
    assert.equal(await reservationStatusOf(db, orderId), undefined);
    assert.deepEqual(await eventsOf(db, orderId), []);
    assert.deepEqual(await stockOf(db, 'ZERO-A'), { onHand: 10, reserved: 0 });
  });
});

describe('release-stock', () => {
  test('when an active reservation is released twice, then its units return once and released(requested) is announced each time', async () => {
    await putStock(db, 'REL-A', 10);
    const orderId = anOrderId();
    await reserve(orderId, [{ sku: 'REL-A', quantity: 4 }]);
    await release(orderId);
    await release(orderId);
    assert.deepEqual(await stockOf(db, 'REL-A'), { onHand: 10, reserved: 0 });
    assert.equal(await reservationStatusOf(db, orderId), 'released');
    const events = await eventsOf(db, orderId);
    assert.deepEqual(events.slice(1), [
      { type: 'inventory.released', payload: { orderId, reason: 'requested' } },
      { type: 'inventory.released', payload: { orderId, reason: 'requested' } },
    ]);
  });

  test('when the order never reserved anything, or its reservation failed, then released is announced and no stock changes; a late reserve takes nothing', async () => {
    await putStock(db, 'REL-B', 1);
    const never = anOrderId();
    const failed = anOrderId();
    await reserve(failed, [{ sku: 'REL-B', quantity: 2 }]);
    await release(never);
    await release(failed);
    assert.deepEqual(await typesOf(never), ['inventory.released']);
    assert.deepEqual(await typesOf(failed), ['inventory.reservation-failed', 'inventory.released']);
    // The release is remembered, so a reserve arriving after it (another consumer group) holds nothing.
    assert.equal(await reservationStatusOf(db, never), 'released');
    assert.equal(await reservationStatusOf(db, failed), 'failed');
    assert.deepEqual(await stockOf(db, 'REL-B'), { onHand: 1, reserved: 0 });
    await reserve(never, [{ sku: 'REL-B', quantity: 1 }]);
    assert.deepEqual(await typesOf(never), ['inventory.released', 'inventory.released']);
    assert.deepEqual(await stockOf(db, 'REL-B'), { onHand: 1, reserved: 0 });
  });

  test('when a committed reservation is released, then released is announced and the sale stands', async () => {
    await putStock(db, 'REL-C', 5);
    const orderId = anOrderId();
    await reserve(orderId, [{ sku: 'REL-C', quantity: 2 }]);
    await commit(orderId);
    await release(orderId);
    assert.deepEqual(await stockOf(db, 'REL-C'), { onHand: 3, reserved: 0 });
    assert.equal(await reservationStatusOf(db, orderId), 'committed');
  });
});

describe('commit-stock', () => {
  test('when an active reservation is committed twice, then its units leave the shelf once and committed is announced twice', async () => {
    await putStock(db, 'COM-A', 10);
    await putStock(db, 'COM-B', 10);
    const orderId = anOrderId();
    await reserve(orderId, [{ sku: 'COM-A', quantity: 3 }, { sku: 'COM-B', quantity: 1 }]);
    await commit(orderId);
    await commit(orderId);
    assert.deepEqual(await stockOf(db, 'COM-A'), { onHand: 7, reserved: 0 });
    assert.deepEqual(await stockOf(db, 'COM-B'), { onHand: 9, reserved: 0 });
    assert.deepEqual(await typesOf(orderId), ['inventory.reserved', 'inventory.committed', 'inventory.committed']);
  });

  test('when the order never reserved anything, then commit-failed is announced and nothing changes', async () => {
    const orderId = anOrderId();
    await commit(orderId);
    assert.deepEqual(await eventsOf(db, orderId), [{ type: 'inventory.commit-failed', payload: { orderId, reason: 'reservation-expired' } }]);
  });

  test('when the reservation expired and the stock is still available, then commit takes it again and commits', async () => {
    await putStock(db, 'EXP-A', 5);
    const orderId = anOrderId();
    await reserve(orderId, [{ sku: 'EXP-A', quantity: 2 }]);
    await backdateReservation(db, orderId);
    assert.ok(await sweepOnce() >= 1);
    assert.deepEqual(await stockOf(db, 'EXP-A'), { onHand: 5, reserved: 0 });
    await commit(orderId);
    assert.deepEqual(await stockOf(db, 'EXP-A'), { onHand: 3, reserved: 0 });
    assert.equal(await reservationStatusOf(db, orderId), 'committed');
    assert.deepEqual(await typesOf(orderId), ['inventory.reserved', 'inventory.released', 'inventory.committed']);
  });

  test('when the reservation expired and its stock was sold meanwhile, then commit-failed is announced, nothing changes, and the refusal is final', async () => {
    await putStock(db, 'EXP-B', 2);
    const late = anOrderId();
    const other = anOrderId();
    await reserve(late, [{ sku: 'EXP-B', quantity: 2 }]);
    await backdateReservation(db, late);
    await sweepOnce();
    await reserve(other, [{ sku: 'EXP-B', quantity: 1 }]);
    await commit(late);
    assert.deepEqual(await stockOf(db, 'EXP-B'), { onHand: 2, reserved: 1 });
    assert.equal(await reservationStatusOf(db, late), 'released');
    assert.deepEqual((await eventsOf(db, late)).at(-1), { type: 'inventory.commit-failed', payload: { orderId: late, reason: 'reservation-expired' } });
    // The saga compensates a refused commit without a restock: a commit delivered again must take nothing.
    await release(other);
    await commit(late);
    assert.deepEqual(await stockOf(db, 'EXP-B'), { onHand: 2, reserved: 0 });
    assert.deepEqual((await typesOf(late)).slice(-2), ['inventory.commit-failed', 'inventory.commit-failed']);
  });

  test('when the restock and release of a cancelled order overtake its commit, then the late commit is refused and the units stay on the shelf', async () => {
    await putStock(db, 'LATE-A', 3);
    const orderId = anOrderId();
    await reserve(orderId, [{ sku: 'LATE-A', quantity: 2 }]);
    await restock(orderId);
    await release(orderId);
    await commit(orderId);
    assert.deepEqual(await stockOf(db, 'LATE-A'), { onHand: 3, reserved: 0 });
    assert.equal(await reservationStatusOf(db, orderId), 'released');
    assert.deepEqual(await typesOf(orderId), ['inventory.reserved', 'inventory.restocked', 'inventory.released', 'inventory.commit-failed']);
  });
});

describe('restock', () => {
  test('when a committed order is restocked twice, then its units return once and restocked is announced twice', async () => {
    await putStock(db, 'RES-A', 10);
    const orderId = anOrderId();
    await reserve(orderId, [{ sku: 'RES-A', quantity: 4 }]);
    await commit(orderId);
    await restock(orderId);
    await restock(orderId);
    assert.deepEqual(await stockOf(db, 'RES-A'), { onHand: 10, reserved: 0 });
    assert.equal(await reservationStatusOf(db, orderId), 'restocked');
    assert.deepEqual((await typesOf(orderId)).slice(-2), ['inventory.restocked', 'inventory.restocked']);
  });

  test('when a restock arrives before the order was committed, then the held units are given back, restocked is announced, and the reservation is closed', async () => {
    await putStock(db, 'RES-B', 10);
    const orderId = anOrderId();
    await reserve(orderId, [{ sku: 'RES-B', quantity: 4 }]);
    await restock(orderId);
    assert.deepEqual(await stockOf(db, 'RES-B'), { onHand: 10, reserved: 0 });
    assert.equal(await reservationStatusOf(db, orderId), 'released');
    assert.deepEqual(await typesOf(orderId), ['inventory.reserved', 'inventory.restocked']);
  });

  test('when a restock arrives for an order never reserved, then restocked is announced and a late reserve takes nothing', async () => {
    await putStock(db, 'RES-C', 10);
    const orderId = anOrderId();
    await restock(orderId);
    await reserve(orderId, [{ sku: 'RES-C', quantity: 4 }]);
    assert.deepEqual(await stockOf(db, 'RES-C'), { onHand: 10, reserved: 0 });
    assert.deepEqual(await typesOf(orderId), ['inventory.restocked', 'inventory.released']);
  });
});

describe('expiry sweeper', () => {
  test('when a reservation is past its expiry, then the running sweeper releases it and announces released(expired)', async () => {
    await putStock(db, 'SWEEP-A', 10);
    const expired = anOrderId();
    const fresh = anOrderId();
    await reserve(expired, [{ sku: 'SWEEP-A', quantity: 3 }]);
    await reserve(fresh, [{ sku: 'SWEEP-A', quantity: 2 }]);
    await backdateReservation(db, expired);
    const [sweeper] = createInventoryModule({ db, logger, reservationTtlSeconds: 900, sweepIntervalMs: 20 }).background;
    assert.ok(sweeper);
    sweeper.start();
    try {
      await eventually('the expired reservation is released', async () => (await reservationStatusOf(db, expired)) === 'expired');
    } finally {
      await sweeper.stop();
    }
    assert.deepEqual(await stockOf(db, 'SWEEP-A'), { onHand: 10, reserved: 2 });
    assert.equal(await reservationStatusOf(db, fresh), 'active');
    assert.deepEqual((await eventsOf(db, expired)).at(-1), { type: 'inventory.released', payload: { orderId: expired, reason: 'expired' } });
    assert.deepEqual(await typesOf(fresh), ['inventory.reserved']);
  });

  test('when a released-by-expiry order is released on request, then released(expired) is announced, no stock changes, and a late commit is refused', async () => {
    await putStock(db, 'SWEEP-B', 10);
    const orderId = anOrderId();
    await reserve(orderId, [{ sku: 'SWEEP-B', quantity: 3 }]);
    await backdateReservation(db, orderId);
    await sweepOnce();
    await release(orderId);
    assert.deepEqual(await stockOf(db, 'SWEEP-B'), { onHand: 10, reserved: 0 });
    assert.deepEqual((await eventsOf(db, orderId)).slice(1).map((event) => event.payload.reason), ['expired', 'expired']);
    // Closed for good: a commit arriving after the release takes nothing.
    assert.equal(await reservationStatusOf(db, orderId), 'released');
    await commit(orderId);
    assert.deepEqual(await stockOf(db, 'SWEEP-B'), { onHand: 10, reserved: 0 });
  });
});

describe('stock announcements (inventory.stock-changed)', () => {
  const available = async (sku: string) => (await stockAnnouncementsOf(db, sku)).map((announced) => announced.available);
  const versions = async (sku: string) => (await stockAnnouncementsOf(db, sku)).map((announced) => announced.stockVersion);

  test('when stock is set, then its available units are announced, each time with a higher version; a refused level announces nothing', async () => {
    await inventory.client.setStockLevel('ann-set', 10);
    await inventory.client.setStockLevel('ANN-SET', 12);
    await reserve(anOrderId(), [{ sku: 'ANN-SET', quantity: 5 }]);
    assert.equal((await inventory.client.setStockLevel('ANN-SET', 4)).outcome, 'refused');

    assert.deepEqual(await available('ANN-SET'), [10, 12, 7]);
    const [first = 0, second = 0, third = 0] = await versions('ANN-SET');
    assert.ok(first < second && second < third, String([first, second, third]));
  });

  test('when an order reserves, is committed and is restocked, then the reservation and the restock are announced, the commit (which leaves the available units as they were) is not', async () => {
    await inventory.client.setStockLevel('ANN-FLOW', 10);
    const orderId = anOrderId();
    await reserve(orderId, [{ sku: 'ANN-FLOW', quantity: 3 }]);
    await commit(orderId);
    assert.deepEqual(await available('ANN-FLOW'), [10, 7]);
    await restock(orderId);
    assert.deepEqual(await available('ANN-FLOW'), [10, 7, 10]);
  });

  test('when a reservation is released on request or by expiry, then the units given back are announced; a short reserve announces nothing', async () => {
    await inventory.client.setStockLevel('ANN-FREE', 5);
    const released = anOrderId();
    const expired = anOrderId();
    await reserve(released, [{ sku: 'ANN-FREE', quantity: 2 }]);
    await reserve(expired, [{ sku: 'ANN-FREE', quantity: 3 }]);
    await reserve(anOrderId(), [{ sku: 'ANN-FREE', quantity: 1 }]);
    await release(released);
    await backdateReservation(db, expired);
    await sweepOnce();
    assert.deepEqual(await available('ANN-FREE'), [5, 3, 0, 2, 5]);
  });
});

describe('through messaging', () => {
  test('when a reserve command is relayed from the outbox, then the registered consumer reserves and queues inventory.reserved', async () => {
    await putStock(db, 'RELAY-A', 3);
    const messaging = createMessaging({ db, transport: new InProcessTransport(), logger, retryPolicy: { maxAttempts: 2, baseDelayMs: 10 }, pollIntervalMs: 1000 });
    for (const consumer of consumers) messaging.register(consumer);
    const command = aReserveCommand([{ sku: 'RELAY-A', quantity: 3 }]);
    await db.transaction().execute((transaction) => appendToOutbox(transaction, [aCommandEnvelope('reserveStock', command)]));
    while (await messaging.relay.relayOnce() > 0) { /* drains everything queued so far, including earlier tests' events */ }
    assert.deepEqual(await stockOf(db, 'RELAY-A'), { onHand: 3, reserved: 3 });
    assert.deepEqual(await typesOf(command.orderId), ['inventory.reserved']);
    const inbox = await sql<{ count: number }>`select count(*)::int as count from messaging.inbox where consumer = 'inventory.reserve-stock'`.execute(db);
    assert.ok((inbox.rows[0]?.count ?? 0) > 0);
  });
});
