import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import { InvalidReservationError, InvalidStockError, OnHandBelowReservedError, StockItemNotFoundError } from '../domain/inventory.errors.ts';
import { InMemoryInventory } from '../testing/in-memory-inventory.ts';
import { aCommitCommand, aReleaseCommand, aReserveCommand, aRestockCommand } from '../testing/inventory-builders.ts';
import { CommitStock } from './commit-stock.ts';
import { ExpireReservations } from './expire-reservations.ts';
import { GetStockLevel } from './get-stock-level.ts';
import { ReleaseStock } from './release-stock.ts';
import { ReserveStock } from './reserve-stock.ts';
import { RestockOrder } from './restock-order.ts';
import { SetStockLevel } from './set-stock-level.ts';

let inventory: InMemoryInventory;
let clock: Date;
const now = () => clock;
const ttlSeconds = 60;

beforeEach(() => {
  inventory = new InMemoryInventory();
  clock = new Date('2026-01-01T00:00:00.000Z');
});

const reserve = (command: Parameters<ReserveStock['execute']>[1]) =>
  inventory.run((store) => new ReserveStock({ reservationTtlSeconds: ttlSeconds, now }).execute(store, command));
const release = (orderId: string) => inventory.run((store) => new ReleaseStock().execute(store, aReleaseCommand(orderId)));
const commit = (orderId: string) => inventory.run((store) => new CommitStock().execute(store, aCommitCommand(orderId)));
const restock = (orderId: string) => inventory.run((store) => new RestockOrder().execute(store, aRestockCommand(orderId)));
const expire = () => inventory.run((store) => new ExpireReservations({ now }).execute(store, 10));
const levelOf = (sku: string) => inventory.stock.get(sku);
const lastEvent = () => inventory.published.at(-1);

describe('SetStockLevel and GetStockLevel', () => {
  test('when stock is set for a new SKU in lower case, then it is created under the upper-case SKU', async () => {
    const level = await new SetStockLevel({ stock: inventory }).execute({ sku: 'mug-1', onHand: 25 });
    assert.deepEqual(level, { sku: 'MUG-1', onHand: 25, reserved: 0 });
    assert.deepEqual(await new GetStockLevel({ stock: inventory }).execute('Mug-1'), level);
  });

  test('when on-hand would drop below what is reserved, then it fails and nothing changes', async () => {
    inventory.withStock('MUG-1', 10, 6);
    await assert.rejects(new SetStockLevel({ stock: inventory }).execute({ sku: 'MUG-1', onHand: 5 }), OnHandBelowReservedError);
    assert.deepEqual(levelOf('MUG-1'), { sku: 'MUG-1', onHand: 10, reserved: 6 });
  });

  test('when the SKU is malformed or unknown, then it fails with the matching error', async () => {
    await assert.rejects(new SetStockLevel({ stock: inventory }).execute({ sku: 'bad sku', onHand: 1 }), InvalidStockError);
    await assert.rejects(new GetStockLevel({ stock: inventory }).execute('NOPE'), StockItemNotFoundError);
  });
});

describe('ReserveStock', () => {
  test('when every line is available, then all are reserved until now + TTL and reserved is announced', async () => {
    inventory.withStock('A', 5).withStock('B', 5);
    const command = aReserveCommand([{ sku: 'a', quantity: 2 }, { sku: 'B', quantity: 1 }, { sku: 'A', quantity: 1 }]);
    assert.equal(await reserve(command), 'reserved');
    assert.equal(levelOf('A')?.reserved, 3);
    assert.equal(levelOf('B')?.reserved, 1);
    assert.deepEqual(lastEvent(), { name: 'reserved', payload: { orderId: command.orderId, expiresAt: '2026-01-01T00:01:00.000Z' } });
  });

  test('when one line is short, then nothing is reserved and the failure names the short SKU', async () => {
    inventory.withStock('A', 5).withStock('B', 1);
    const command = aReserveCommand([{ sku: 'A', quantity: 2 }, { sku: 'B', quantity: 2 }]);
    assert.equal(await reserve(command), 'failed');
    assert.equal(levelOf('A')?.reserved, 0);
    assert.deepEqual(lastEvent(), { name: 'reservationFailed', payload: { orderId: command.orderId, reason: 'insufficient-stock', skus: ['B'] } });
  });

  test('when a SKU is unknown, then nothing is reserved and the failure names it', async () => {
    inventory.withStock('A', 5);
    const command = aReserveCommand([{ sku: 'A', quantity: 1 }, { sku: 'ghost', quantity: 1 }]);
    assert.equal(await reserve(command), 'failed');
    assert.equal(levelOf('A')?.reserved, 0);
    assert.deepEqual(lastEvent()?.payload, { orderId: command.orderId, reason: 'unknown-sku', skus: ['GHOST'] });
  });

  test('when the order already has a reservation, then its outcome is announced again and nothing more is reserved', async () => {
    inventory.withStock('A', 5);
    const command = aReserveCommand([{ sku: 'A', quantity: 2 }]);
    await reserve(command);
    assert.equal(await reserve({ ...command, lines: [{ sku: 'A', quantity: 3 }] }), 'already-decided');
    assert.equal(levelOf('A')?.reserved, 2);
    assert.deepEqual(inventory.published.map((event) => event.name), ['reserved', 'reserved']);
  });

  test('when a failed order is reserved again after stock arrived, then the failure is announced again', async () => {
    const command = aReserveCommand([{ sku: 'A', quantity: 2 }]);
    await reserve(command);
    inventory.withStock('A', 5);
    assert.equal(await reserve(command), 'already-decided');
    assert.equal(levelOf('A')?.reserved, 0);
    assert.deepEqual(inventory.published.map((event) => event.name), ['reservationFailed', 'reservationFailed']);
  });

  test('when a quantity is not a positive integer, then it throws and nothing is recorded', async () => {
    inventory.withStock('A', 5);
    await assert.rejects(reserve(aReserveCommand([{ sku: 'A', quantity: 0 }])), InvalidReservationError);
    assert.equal(inventory.reservations.size, 0);
    assert.equal(inventory.published.length, 0);
  });
});

describe('ReleaseStock', () => {
  test('when an active reservation is released, then its units are available again, once', async () => {
    inventory.withStock('A', 5);
    const command = aReserveCommand([{ sku: 'A', quantity: 2 }]);
    await reserve(command);
    assert.equal(await release(command.orderId), 'released');
    assert.equal(await release(command.orderId), 'nothing-held');
    assert.equal(levelOf('A')?.reserved, 0);
    assert.deepEqual(inventory.published.slice(1), [
      { name: 'released', payload: { orderId: command.orderId, reason: 'requested' } },
      { name: 'released', payload: { orderId: command.orderId, reason: 'requested' } },
    ]);
  });

  test('when the order never reserved anything, then released is still announced and nothing changes', async () => {
    inventory.withStock('A', 5, 1);
    assert.equal(await release('order-unknown'), 'nothing-held');
    assert.deepEqual(levelOf('A'), { sku: 'A', onHand: 5, reserved: 1 });
    assert.equal(lastEvent()?.name, 'released');
  });

  test('when the release of an order arrives before its reservation, then the late reserve takes nothing and announces the release', async () => {
    inventory.withStock('A', 5);
    const command = aReserveCommand([{ sku: 'A', quantity: 2 }]);
    assert.equal(await release(command.orderId), 'nothing-held');
    assert.equal(await reserve(command), 'already-decided');
    assert.deepEqual(levelOf('A'), { sku: 'A', onHand: 5, reserved: 0 });
    assert.deepEqual(lastEvent(), { name: 'released', payload: { orderId: command.orderId, reason: 'requested' } });
  });
});

describe('CommitStock', () => {
  test('when an active reservation is committed twice, then its units leave the shelf once and committed is announced twice', async () => {
    inventory.withStock('A', 5);
    const command = aReserveCommand([{ sku: 'A', quantity: 2 }]);
    await reserve(command);
    assert.equal(await commit(command.orderId), 'committed');
    assert.equal(await commit(command.orderId), 'already-committed');
    assert.deepEqual(levelOf('A'), { sku: 'A', onHand: 3, reserved: 0 });
    assert.deepEqual(inventory.published.map((event) => event.name), ['reserved', 'committed', 'committed']);
  });

  test('when the reservation expired and the units are still there, then they are taken again and committed', async () => {
    inventory.withStock('A', 5);
    const command = aReserveCommand([{ sku: 'A', quantity: 2 }]);
    await reserve(command);
    clock = new Date(clock.getTime() + (ttlSeconds + 1) * 1000);
    assert.equal(await expire(), 1);
    assert.equal(await commit(command.orderId), 'taken-again');
    assert.deepEqual(levelOf('A'), { sku: 'A', onHand: 3, reserved: 0 });
  });

  test('when a released order\'s commit arrives late with its units still available, then it is refused and takes nothing', async () => {
    inventory.withStock('A', 5);
    const command = aReserveCommand([{ sku: 'A', quantity: 2 }]);
    await reserve(command);
    await restock(command.orderId);
    await release(command.orderId);
    assert.equal(await commit(command.orderId), 'failed');
    assert.deepEqual(levelOf('A'), { sku: 'A', onHand: 5, reserved: 0 });
    assert.equal(inventory.reservations.get(command.orderId)?.status, 'released');
    assert.deepEqual(lastEvent(), { name: 'commitFailed', payload: { orderId: command.orderId, reason: 'reservation-expired' } });
  });

  test('when an expired reservation is released before its late commit, then the commit is refused and takes nothing', async () => {
    inventory.withStock('A', 5);
    const command = aReserveCommand([{ sku: 'A', quantity: 2 }]);
    await reserve(command);
    clock = new Date(clock.getTime() + (ttlSeconds + 1) * 1000);
    await expire();
    assert.equal(await release(command.orderId), 'nothing-held');
    assert.deepEqual(lastEvent(), { name: 'released', payload: { orderId: command.orderId, reason: 'expired' } });
    assert.equal(await commit(command.orderId), 'failed');
    assert.deepEqual(levelOf('A'), { sku: 'A', onHand: 5, reserved: 0 });
  });

  test('when an expired reservation\'s units were sold meanwhile, then commit fails, and delivered again once the units are back it still fails', async () => {
    inventory.withStock('A', 2);
    const late = aReserveCommand([{ sku: 'A', quantity: 2 }]);
    await reserve(late);
    clock = new Date(clock.getTime() + (ttlSeconds + 1) * 1000);
    await expire();
    const other = aReserveCommand([{ sku: 'A', quantity: 1 }]);
    await reserve(other);
    assert.equal(await commit(late.orderId), 'failed');
    assert.deepEqual(levelOf('A'), { sku: 'A', onHand: 2, reserved: 1 });
    await release(other.orderId);
    assert.equal(await commit(late.orderId), 'failed');
    assert.deepEqual(levelOf('A'), { sku: 'A', onHand: 2, reserved: 0 });
    assert.deepEqual(inventory.published.filter((event) => event.payload.orderId === late.orderId).map((event) => event.name),
      ['reserved', 'released', 'commitFailed', 'commitFailed']);
  });

  test('when a commit arrives for an order with no reservation, then it is refused and a reserve arriving after it takes nothing', async () => {
    inventory.withStock('A', 5);
    const command = aReserveCommand([{ sku: 'A', quantity: 2 }]);
    assert.equal(await commit(command.orderId), 'failed');
    assert.equal(await reserve(command), 'already-decided');
    assert.deepEqual(levelOf('A'), { sku: 'A', onHand: 5, reserved: 0 });
    assert.deepEqual(lastEvent(), { name: 'released', payload: { orderId: command.orderId, reason: 'requested' } });
  });
});

describe('RestockOrder', () => {
  test('when a committed order is restocked twice, then its units return once and restocked is announced twice', async () => {
    inventory.withStock('A', 5);
    const command = aReserveCommand([{ sku: 'A', quantity: 2 }]);
    await reserve(command);
    await commit(command.orderId);
    assert.equal(await restock(command.orderId), 'restocked');
    assert.equal(await restock(command.orderId), 'already-restocked');
    assert.deepEqual(levelOf('A'), { sku: 'A', onHand: 5, reserved: 0 });
    assert.deepEqual(inventory.published.slice(-2).map((event) => event.name), ['restocked', 'restocked']);
  });

  test('when a restock overtakes the order\'s commit, then the held units are given back, restocked is announced, and the late commit is refused', async () => {
    inventory.withStock('A', 5);
    const command = aReserveCommand([{ sku: 'A', quantity: 2 }]);
    await reserve(command);
    assert.equal(await restock(command.orderId), 'released');
    assert.deepEqual(levelOf('A'), { sku: 'A', onHand: 5, reserved: 0 });
    assert.deepEqual(lastEvent(), { name: 'restocked', payload: { orderId: command.orderId } });
    assert.equal(await commit(command.orderId), 'failed');
    assert.equal(await release(command.orderId), 'nothing-held');
    assert.deepEqual(levelOf('A'), { sku: 'A', onHand: 5, reserved: 0 });
    assert.deepEqual(inventory.published.map((event) => event.name), ['reserved', 'restocked', 'commitFailed', 'released']);
  });

  test('when a restock arrives for an expired reservation or for no reservation at all, then a later commit or reserve takes nothing', async () => {
    inventory.withStock('A', 5);
    const expired = aReserveCommand([{ sku: 'A', quantity: 2 }]);
    await reserve(expired);
    clock = new Date(clock.getTime() + (ttlSeconds + 1) * 1000);
    await expire();
    const never = aReserveCommand([{ sku: 'A', quantity: 2 }]);
    assert.equal(await restock(expired.orderId), 'nothing-committed');
    assert.equal(await restock(never.orderId), 'nothing-committed');
    assert.equal(await commit(expired.orderId), 'failed');
    assert.equal(await reserve(never), 'already-decided');
    assert.deepEqual(levelOf('A'), { sku: 'A', onHand: 5, reserved: 0 });
  });
});

describe('ExpireReservations', () => {
  test('when some reservations are past expiry, then only those are released, each announced as expired', async () => {
    inventory.withStock('A', 10);
    const old = aReserveCommand([{ sku: 'A', quantity: 3 }]);
    await reserve(old);
    clock = new Date(clock.getTime() + 30_000);
    const recent = aReserveCommand([{ sku: 'A', quantity: 2 }]);
    await reserve(recent);
    clock = new Date(clock.getTime() + 31_000);
    assert.equal(await expire(), 1);
    assert.equal(await expire(), 0);
    assert.equal(levelOf('A')?.reserved, 2);
    assert.equal(inventory.reservations.get(old.orderId)?.status, 'expired');
    assert.deepEqual(lastEvent(), { name: 'released', payload: { orderId: old.orderId, reason: 'expired' } });
  });
});
