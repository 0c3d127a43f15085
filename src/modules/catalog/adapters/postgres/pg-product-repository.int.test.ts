import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { messagingMigrations } from '../../../../platform/messaging/index.ts';
import { createTestDatabase, databaseServers } from '../../../../platform/testing/test-database.ts';
import { productChangedEvent } from '../../application/product-changed-event.ts';
import { catalogMigrations } from '../../index.ts';
import { DuplicateSkuError, ProductModifiedConcurrentlyError } from '../../domain/product.errors.ts';
import { changeProduct, createProduct } from '../../domain/product.ts';
import { aNewProduct } from '../../testing/product-builder.ts';
import { PgProductRepository } from './pg-product-repository.ts';
import { PgReportedStockStore } from './pg-reported-stock-store.ts';

for (const server of databaseServers()) {
  describe(`PgProductRepository on ${server.name} PostgreSQL`, { skip: server.skip }, () => {
    let db: Database;
    let drop: () => Promise<void>;
    let repository: PgProductRepository;
    let tick = 0;
    const at = () => new Date(Date.UTC(2026, 0, 1) + (tick += 1000));

    before(async () => {
      const created = await createTestDatabase(server.url ?? '', [messagingMigrations, catalogMigrations]);
      db = created.db;
      drop = created.drop;
      repository = new PgProductRepository(db);
    });
    after(async () => { await drop(); });

    const outboxCount = async () => (await sql<{ count: number }>`select count(*)::int as count from messaging.outbox`.execute(db)).rows[0]?.count;

    test('when a product is added, then it reads back equal and its event is in the outbox', async () => {
      const product = createProduct(aNewProduct({ price: { amount: 4200, currency: 'EUR' } }), `prod_${crypto.randomUUID()}`, at());
      assert.equal(await repository.add(product, productChangedEvent(product, 'created')), undefined);
      assert.deepEqual(await repository.findById(product.id), { product, stock: undefined });
      const outbox = await sql<{ type: string; key: string; topic: string; payload: { sku: string } }>`
        select type, key, topic, payload from messaging.outbox where key = ${product.id}`.execute(db);
      assert.deepEqual(outbox.rows.map((row) => [row.type, row.topic, row.payload.sku]), [['catalog.product-changed', 'orderstream.catalog.v1', product.sku]]);
    });

    test('when the SKU is taken, then it fails and neither a product nor an outbox row is written', async () => {
      const first = createProduct(aNewProduct(), `prod_${crypto.randomUUID()}`, at());
      await repository.add(first, productChangedEvent(first, 'created'));
      const before = await outboxCount();
      const clash = createProduct(aNewProduct({ sku: first.sku }), `prod_${crypto.randomUUID()}`, at());
      await assert.rejects(repository.add(clash, productChangedEvent(clash, 'created')), DuplicateSkuError);
      assert.equal(await repository.findById(clash.id), undefined);
      assert.equal(await outboxCount(), before);
    });

    test('when two writers update the same version, then the second fails and only one event is written', async () => {
      const product = createProduct(aNewProduct(), `prod_${crypto.randomUUID()}`, at());
      await repository.add(product, productChangedEvent(product, 'created'));
      const first = changeProduct(product, { name: 'First writer' }, at());
      const second = changeProduct(product, { name: 'Second writer' }, at());
      await repository.update(first, productChangedEvent(first, 'updated'));
      const before = await outboxCount();
      await assert.rejects(repository.update(second, productChangedEvent(second, 'updated')), ProductModifiedConcurrentlyError);
      assert.equal((await repository.findById(product.id))?.product.name, 'First writer');
      assert.equal(await outboxCount(), before);
    });

    test('when listing with filters and a cursor, then pages are disjoint, ordered and filtered', async () => {
      const marker = `Lamp${tick}`;
      const lamps = [];
      for (const amount of [100, 200, 300, 400, 500]) {
        const lamp = createProduct(aNewProduct({ name: `${marker} ${amount}`, price: { amount, currency: 'EUR' } }), `prod_${crypto.randomUUID()}`, at());
        await repository.add(lamp, productChangedEvent(lamp, 'created'));
        lamps.push(lamp);
      }
      const firstPage = await repository.list({ text: marker.toLowerCase(), minPriceAmount: 200, maxPriceAmount: 500, limit: 2 });
      assert.deepEqual(firstPage.items.map((item) => item.product.price.amount), [200, 300]);
      assert.ok(firstPage.next);
      const secondPage = await repository.list({ text: marker, minPriceAmount: 200, maxPriceAmount: 500, limit: 2, after: firstPage.next });
      assert.deepEqual(secondPage.items.map((item) => item.product.price.amount), [400, 500]);
      assert.equal(secondPage.next, null);
    });

    test('when the search text holds LIKE wildcards, then they match literally', async () => {
      const odd = createProduct(aNewProduct({ name: '100% cotton_shirt' }), `prod_${crypto.randomUUID()}`, at());
      await repository.add(odd, productChangedEvent(odd, 'created'));
      assert.deepEqual((await repository.list({ text: '100% cotton_', limit: 10 })).items.map((item) => item.product.id), [odd.id]);
      assert.equal((await repository.list({ text: '%', limit: 100 })).items.filter((item) => !item.product.name.includes('%')).length, 0);
    });

    test('when looking up SKUs, then only existing ones come back', async () => {
      const product = createProduct(aNewProduct(), `prod_${crypto.randomUUID()}`, at());
      await repository.add(product, productChangedEvent(product, 'created'));
      assert.deepEqual((await repository.findBySkus([product.sku, 'NO-SUCH-SKU'])).map((item) => item.product.id), [product.id]);
      assert.deepEqual(await repository.findBySkus([]), []);
    });

    test('when inventory reported a SKU\'s stock, then every read of its product carries it, and adding the product answers it', async () => {
      const product = createProduct(aNewProduct({ name: `Stocked ${tick}` }), `prod_${crypto.randomUUID()}`, at());
      const reported = { sku: product.sku, available: 7, stockVersion: 3 };
      await db.transaction().execute((transaction) => new PgReportedStockStore(transaction).record([reported]));

      assert.deepEqual(await repository.add(product, productChangedEvent(product, 'created')), reported);
      assert.deepEqual((await repository.findById(product.id))?.stock, reported);
      assert.deepEqual((await repository.findBySkus([product.sku]))[0]?.stock, reported);
      assert.deepEqual((await repository.list({ text: product.name, limit: 10 })).items.map((item) => item.stock), [reported]);
    });

    test('when a report of an older stock version comes after a newer one, then the newer one stays', async () => {
      const product = createProduct(aNewProduct(), `prod_${crypto.randomUUID()}`, at());
      await repository.add(product, productChangedEvent(product, 'created'));
      const record = (available: number, stockVersion: number) => db.transaction().execute((transaction) =>
        new PgReportedStockStore(transaction).record([{ sku: product.sku, available, stockVersion }]));

      await record(4, 5);
      await record(9, 4);
      assert.deepEqual((await repository.findById(product.id))?.stock, { sku: product.sku, available: 4, stockVersion: 5 });
      await record(2, 6);
      assert.deepEqual((await repository.findById(product.id))?.stock, { sku: product.sku, available: 2, stockVersion: 6 });
    });
  });
}
