import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../../../platform/database/database.ts';
import { createLogger } from '../../../platform/logging/logger.ts';
import { messagingMigrations } from '../../../platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../platform/testing/test-database.ts';
import { createInventoryModule, inventoryMigrations, type InventoryClient } from '../index.ts';
import { aCommandEnvelope, deliver, stockOf } from '../testing/inventory-database.ts';
import { aReserveCommand } from '../testing/inventory-builders.ts';

let db: Database;
let drop: () => Promise<void>;
let inventory: ReturnType<typeof createInventoryModule>;
let client: InventoryClient;

before(async () => {
  ({ db, drop } = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, inventoryMigrations]));
  inventory = createInventoryModule({ db, logger: createLogger({ level: 'silent' }), reservationTtlSeconds: 900 });
  client = inventory.client;
});
after(async () => { await drop(); });

async function batchAnnouncements(): Promise<{ key: string; payload: { levels: { sku: string; available: number; stockVersion: number }[] } }[]> {
  return (await sql<never>`select key, payload from messaging.outbox where type = 'inventory.stock-levels-changed' order by position`.execute(db)).rows;
}

describe('InventoryClient.setStockLevels', () => {
  test('when a batch mixes new, changed, unchanged, reserved-above and bad levels, then each gets its outcome in order and one event names those changed', async () => {
    await client.setStockLevel('SL-SAME', 5);
    await client.setStockLevel('SL-HELD', 10);
    await deliver(db, inventory.consumers, aCommandEnvelope('reserveStock', aReserveCommand([{ sku: 'SL-HELD', quantity: 4 }])));
    const outcomes = await client.setStockLevels({
      key: 'levels-1', levels: [{ sku: 'sl-new', onHand: 7 }, { sku: 'SL-SAME', onHand: 5 }, { sku: 'SL-HELD', onHand: 3 }, { sku: 'SL-BAD', onHand: -1 }, { sku: 'SL-NEW', onHand: 1 }],
    });
    assert.deepEqual(outcomes, [
      { outcome: 'set' }, { outcome: 'set' }, { outcome: 'refused', reserved: 4 },
      { outcome: 'rejected', reason: 'onHand must not be negative' },
      { outcome: 'rejected', reason: 'sku SL-NEW is repeated in the batch (first at position 1)' },
    ]);
    assert.deepEqual(await stockOf(db, 'SL-NEW'), { onHand: 7, reserved: 0 });
    assert.deepEqual(await stockOf(db, 'SL-HELD'), { onHand: 10, reserved: 4 });
    const [event, ...more] = await batchAnnouncements();
    assert.equal(more.length, 0);
    assert.deepEqual(event?.payload.levels.map(({ sku, available }) => [sku, available]), [['SL-NEW', 7]]);
  });

  test('when a batch is sent again with its key, then it answers the first outcomes and writes nothing', async () => {
    const first = await client.setStockLevels({ key: 'levels-2', levels: [{ sku: 'SR-1', onHand: 3 }] });
    const events = (await batchAnnouncements()).length;
    assert.deepEqual(await client.setStockLevels({ key: 'levels-2', levels: [{ sku: 'SR-1', onHand: 9 }] }), first);
    assert.deepEqual(await stockOf(db, 'SR-1'), { onHand: 3, reserved: 0 });
    assert.equal((await batchAnnouncements()).length, events);
  });
});
