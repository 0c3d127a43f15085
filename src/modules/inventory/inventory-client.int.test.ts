import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Database } from '../../platform/database/database.ts';
import { createLogger } from '../../platform/logging/logger.ts';
import { messagingMigrations } from '../../platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../platform/testing/test-database.ts';
import { createInventoryModule, inventoryMigrations, type InventoryClient } from './index.ts';
import { aCommandEnvelope, deliver, stockOf } from './testing/inventory-database.ts';
import { aReserveCommand } from './testing/inventory-builders.ts';

let db: Database;
let drop: () => Promise<void>;
let client: InventoryClient;
let consumers: ReturnType<typeof createInventoryModule>['consumers'];

before(async () => {
  ({ db, drop } = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, inventoryMigrations]));
  const inventory = createInventoryModule({ db, logger: createLogger({ level: 'silent' }), reservationTtlSeconds: 900 });
  client = inventory.client;
  consumers = inventory.consumers;
});
after(async () => {
  await drop();
});

describe('InventoryClient.setStockLevel', () => {
  test('when a new SKU is set in lower case, then it is stored under the upper-case SKU; repeating it changes nothing', async () => {
    assert.deepEqual(await client.setStockLevel('cl-1', 12), { outcome: 'set', sku: 'CL-1', onHand: 12, reserved: 0 });
    assert.deepEqual(await client.setStockLevel('CL-1', 12), { outcome: 'set', sku: 'CL-1', onHand: 12, reserved: 0 });
    assert.deepEqual(await stockOf(db, 'CL-1'), { onHand: 12, reserved: 0 });
  });

  test('when the count is below what orders reserved, then it is refused and the stock is unchanged', async () => {
    await client.setStockLevel('CL-2', 10);
    await deliver(db, consumers, aCommandEnvelope('reserveStock', aReserveCommand([{ sku: 'CL-2', quantity: 4 }])));
    assert.deepEqual(await client.setStockLevel('CL-2', 3), { outcome: 'refused', sku: 'CL-2', reason: 'below-reserved', reserved: 4 });
    assert.deepEqual(await stockOf(db, 'CL-2'), { onHand: 10, reserved: 4 });
  });

  test('when the SKU is malformed, then it rejects with an InvalidStockError', async () => {
    await assert.rejects(client.setStockLevel('bad sku', 1), { name: 'InvalidStockError' });
  });
});
