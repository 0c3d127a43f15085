import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../../../platform/database/database.ts';
import { messagingMigrations } from '../../../platform/messaging/index.ts';
import { auditMigrations } from '../../../platform/audit/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../platform/testing/test-database.ts';
import { catalogMigrations, createCatalogModule, type CatalogImportClient, type ProductUpsertV1 } from '../index.ts';

let db: Database;
let drop: () => Promise<void>;
let catalog: CatalogImportClient;

before(async () => {
  ({ db, drop } = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, auditMigrations, catalogMigrations]));
  catalog = createCatalogModule({ db }).client;
});
after(async () => { await drop(); });

const product = (sku: string, name = `Product ${sku}`, amount = 100): ProductUpsertV1 => ({ sku, name, description: '', price: { amount, currency: 'EUR' } });

async function announcements(type: string): Promise<{ key: string; payload: { products?: { sku: string; change: string; productVersion: number }[] } }[]> {
  const rows = await sql<{ key: string; payload: never }>`select key, payload from messaging.outbox where type = ${type} order by position`.execute(db);
  return rows.rows;
}

describe('CatalogImportClient.upsertProducts', () => {
  test('when a batch mixes new, changed, unchanged and bad products, then each gets its outcome in order and one event names those written', async () => {
    await catalog.upsertProduct(product('BU-OLD', 'Old name'));
    await catalog.upsertProduct(product('BU-SAME'));
    const outcomes = await catalog.upsertProducts({
      key: 'bulk-1', products: [product('bu-new'), product('BU-OLD', 'New name'), product('BU-SAME'), product('BU-BAD', ''), product('BU-NEW', 'Again')],
    });
    assert.deepEqual(outcomes, [
      { outcome: 'created' }, { outcome: 'updated' }, { outcome: 'updated' },
      { outcome: 'rejected', reason: 'name must not be empty' },
      { outcome: 'rejected', reason: 'sku BU-NEW is repeated in the batch (first at position 1)' },
    ]);
    const names = await sql<{ sku: string; name: string; version: number }>`select sku, name, version from catalog.products where sku like 'BU-%' order by sku`.execute(db);
    assert.deepEqual(names.rows, [
      { sku: 'BU-NEW', name: 'Product bu-new', version: 1 }, { sku: 'BU-OLD', name: 'New name', version: 2 }, { sku: 'BU-SAME', name: 'Product BU-SAME', version: 1 },
    ]);
    const [event, ...more] = await announcements('catalog.products-changed');
    assert.equal(more.length, 0);
    assert.equal(event?.key, 'batch:bulk-1');
    assert.deepEqual(event.payload.products?.map(({ sku, change, productVersion }) => [sku, change, productVersion]), [['BU-NEW', 'created', 1], ['BU-OLD', 'updated', 2]]);
  });

  test('when a batch is sent again with its key, then it answers the first outcomes and writes nothing, even if the products changed meanwhile', async () => {
    const first = await catalog.upsertProducts({ key: 'bulk-2', products: [product('BR-1'), product('BR-2')] });
    assert.deepEqual(first, [{ outcome: 'created' }, { outcome: 'created' }]);
    const events = (await announcements('catalog.products-changed')).length;
    const again = await catalog.upsertProducts({ key: 'bulk-2', products: [product('BR-1', 'Changed'), product('BR-2')] });
    assert.deepEqual(again, first);
    assert.equal((await announcements('catalog.products-changed')).length, events);
    const stored = await sql<{ name: string }>`select name from catalog.products where sku = 'BR-1'`.execute(db);
    assert.equal(stored.rows[0]?.name, 'Product BR-1');
  });

  test('when a key is sent again with another number of products, then it is refused', async () => {
    await catalog.upsertProducts({ key: 'bulk-3', products: [product('BK-1')] });
    await assert.rejects(catalog.upsertProducts({ key: 'bulk-3', products: [product('BK-1'), product('BK-2')] }), { name: 'BatchKeyReusedError' });
  });

  test('when every product of a batch is already as stated, then nothing is written or announced', async () => {
    await catalog.upsertProducts({ key: 'bulk-4a', products: [product('BS-1')] });
    const events = (await announcements('catalog.products-changed')).length;
    assert.deepEqual(await catalog.upsertProducts({ key: 'bulk-4b', products: [product('BS-1')] }), [{ outcome: 'updated' }]);
    assert.equal((await announcements('catalog.products-changed')).length, events);
  });
});
