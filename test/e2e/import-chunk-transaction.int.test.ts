import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { auditMigrations } from '../../src/platform/audit/index.ts';
import type { Database } from '../../src/platform/database/database.ts';
import { runInSharedTransaction } from '../../src/platform/database/shared-transaction.ts';
import { createLogger } from '../../src/platform/logging/logger.ts';
import { messagingMigrations } from '../../src/platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../src/platform/testing/test-database.ts';
import { catalogMigrations, createCatalogModule } from '../../src/modules/catalog/index.ts';
import { createInventoryModule, inventoryMigrations } from '../../src/modules/inventory/index.ts';

let db: Database;
let drop: () => Promise<void>;

before(async () => {
  ({ db, drop } = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, auditMigrations, catalogMigrations, inventoryMigrations]));
});
after(async () => { await drop(); });

async function count(query: ReturnType<typeof sql<{ count: number }>>): Promise<number> {
  return (await query.execute(db)).rows[0]?.count ?? 0;
}

test('when an import chunk\'s batches run in one shared transaction on the modules\' database, then products, stock, events and batch keys commit together or not at all', async () => {
  const catalog = createCatalogModule({ db }).client;
  const inventory = createInventoryModule({ db, logger: createLogger({ level: 'silent' }), reservationTtlSeconds: 900 }).client;
  const chunk = (fail: boolean) => runInSharedTransaction(db, async () => {
    const products = await catalog.upsertProducts({ key: 'job-1:1-2', products: ['ST-1', 'ST-2'].map((sku) => ({ sku, name: `Product ${sku}`, description: '', price: { amount: 100, currency: 'EUR' } })) });
    const levels = await inventory.setStockLevels({ key: 'job-1:1-2', levels: [{ sku: 'ST-1', onHand: 1 }, { sku: 'ST-2', onHand: 2 }] });
    if (fail) throw new Error('simulated crash before the checkpoint commits');
    return { products, levels };
  });
  const written = () => count(sql<{ count: number }>`select (select count(*) from catalog.products where sku like 'ST-%')
    + (select count(*) from inventory.stock_items where sku like 'ST-%') + (select count(*) from catalog.applied_batches)
    + (select count(*) from inventory.applied_batches) + (select count(*) from messaging.outbox) as count`);

  await assert.rejects(chunk(true), /simulated crash/);
  assert.equal(await written(), 0, 'nothing of the chunk is left');

  assert.deepEqual(await chunk(false), { products: [{ outcome: 'created' }, { outcome: 'created' }], levels: [{ outcome: 'set' }, { outcome: 'set' }] });
  assert.equal(await written(), 2 + 2 + 1 + 1 + 2, 'two products, two stock items, a key each, one announcement each');
});
