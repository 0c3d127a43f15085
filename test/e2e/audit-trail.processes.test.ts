import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { requireService } from '../../src/platform/testing/services.ts';
import { call, signIn, startServicesShape, startSingleShape, type RunningShape } from './harness/shapes.ts';

/**
 * The audit trail through the public address of each shape: an admin's acts are recorded by the
 * module that owns the data, in its own database, and each module's route answers for its own acts.
 */
const kafka = requireService('Kafka', 'KAFKA_BROKERS');
const shapes: { name: string; skip: string | false; start: () => Promise<RunningShape> }[] = [
  { name: 'single-process', skip: false, start: startSingleShape },
  { name: 'services', skip: kafka.skip, start: () => startServicesShape({ kafkaBrokers: kafka.url ?? '' }) },
];

interface AuditPage {
  items: { module: string; action: string; targetId: string; actor: { id: string; email: string | null }; clientAddress: string | null; requestId: string | null; before: unknown; after: unknown }[];
  nextCursor: string | null;
}

for (const shape of shapes) {
  describe(`the audit trail in the ${shape.name} shape`, { skip: shape.skip }, () => {
    let running: RunningShape;
    let admin: string;
    let customer: string;
    const adminEmail = `audit-admin-${shape.name}@example.com`;

    before(async () => {
      running = await shape.start();
      admin = await signIn(running, adminEmail, { admin: true });
      customer = await signIn(running, `audit-customer-${shape.name}@example.com`);
    });
    after(async () => { await running.stop(); });

    test('when an admin changes a price and sets stock, then each module lists its own act with the admin, the address and the request id', async () => {
      const created = await call(running, 'POST', '/v1/products', { token: admin, body: { sku: 'AUDIT-SHAPE', name: 'Audited', price: { amount: 900, currency: 'EUR' } } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const productId = (created.body as { id: string }).id;
      const repriced = await call(running, 'PATCH', `/v1/products/${productId}`, { token: admin, body: { price: { amount: 950, currency: 'EUR' } }, headers: { 'x-request-id': `audit-price-${shape.name}` } });
      assert.equal(repriced.status, 200, JSON.stringify(repriced.body));
      const stocked = await call(running, 'PUT', '/v1/inventory/AUDIT-SHAPE', { token: admin, body: { onHand: 4 }, headers: { 'x-request-id': `audit-stock-${shape.name}` } });
      assert.equal(stocked.status, 200, JSON.stringify(stocked.body));

      const prices = await call(running, 'GET', `/v1/admin/catalog/audit?action=catalog.price-changed&target=${productId}`, { token: admin });
      assert.equal(prices.status, 200, JSON.stringify(prices.body));
      const [price] = (prices.body as AuditPage).items;
      assert.ok(price !== undefined, JSON.stringify(prices.body));
      assert.equal((prices.body as AuditPage).items.length, 1);
      assert.deepEqual(
        [price.module, price.actor.email, price.clientAddress, price.requestId, price.before, price.after],
        ['catalog', adminEmail, '127.0.0.1', `audit-price-${shape.name}`, { price: { amount: 900, currency: 'EUR' } }, { price: { amount: 950, currency: 'EUR' } }],
      );
      assert.notEqual(price.actor.id, 'anonymous');

      const stock = (await call(running, 'GET', '/v1/admin/inventory/audit?target=AUDIT-SHAPE', { token: admin })).body as AuditPage;
      assert.deepEqual(stock.items.map((item) => [item.module, item.action, item.actor.id, item.requestId, item.after]), [
        ['inventory', 'inventory.stock-set', price.actor.id, `audit-stock-${shape.name}`, { onHand: 4, reserved: 0 }],
      ]);
      // Each module's route answers for the acts on its own data only.
      assert.deepEqual((await call(running, 'GET', '/v1/admin/catalog/audit?action=inventory.stock-set', { token: admin })).body, { items: [], nextCursor: null });
      const inventoryDatabase = await sql<{ module: string }>`select distinct module from audit.entries`.execute(running.databaseOf('inventory'));
      const catalogDatabase = await sql<{ module: string }>`select distinct module from audit.entries`.execute(running.databaseOf('catalog'));
      if (shape.name === 'services') {
        assert.deepEqual([inventoryDatabase.rows, catalogDatabase.rows], [[{ module: 'inventory' }], [{ module: 'catalog' }]], 'each service keeps its acts in its own database');
      }
    });

    test('when a customer or nobody asks for a trail, or the filters are bad, then 403, 401 or 400 problem+json', async () => {
      assert.equal((await call(running, 'GET', '/v1/admin/orders/audit', { token: customer })).status, 403);
      assert.equal((await call(running, 'GET', '/v1/admin/orders/audit')).status, 401);
      const bad = await call(running, 'GET', '/v1/admin/orders/audit?from=soon', { token: admin });
      assert.equal(bad.status, 400, JSON.stringify(bad.body));
      assert.match(bad.headers.get('content-type') ?? '', /^application\/problem\+json/);
    });
  });
}
