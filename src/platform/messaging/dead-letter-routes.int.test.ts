import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../database/database.ts';
import { createHttpApp, type HttpApp } from '../http/app.ts';
import { createLogger } from '../logging/logger.ts';
import { createTestDatabase, embeddedServerUrl } from '../testing/test-database.ts';
import { auditMigrations } from '../audit/index.ts';
import { createEnvelope, deadLetterRoutes, messagingMigrations } from './index.ts';

let db: Database;
let drop: () => Promise<void>;
let app: HttpApp;

before(async () => {
  ({ db, drop } = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, auditMigrations]));
  app = createHttpApp({ logger: createLogger({ level: 'silent' }), bodyLimit: 1024, readiness: [], routes: [deadLetterRoutes(db, 'orders'), deadLetterRoutes(db, 'inventory')] });
});
after(async () => {
  await app.close();
  await drop();
});

async function deadLetter(consumer: string, type: string): Promise<number> {
  const envelope = createEnvelope({ type, version: 1, key: 'ord_1', payload: { orderId: 'ord_1' } });
  const inserted = await sql<{ id: number }>`
    insert into messaging.dead_letters (consumer, message_id, envelope, attempts, last_error)
    values (${consumer}, ${envelope.id}, ${JSON.stringify(envelope)}::jsonb, 5, 'boom') returning id`.execute(db);
  return Number(inserted.rows[0]?.id);
}

describe('dead letter administration', () => {
  test('when an admin lists a module\'s dead letters, then only its consumers\' appear; replaying one sends it back with fresh attempts, once', async () => {
    const ordersLetter = await deadLetter('orders.saga', 'inventory.reserved');
    const inventoryLetter = await deadLetter('inventory.reserve-stock', 'inventory.reserve-stock');

    const listed = await app.inject({ method: 'GET', url: '/v1/admin/orders/dead-letters' });
    assert.equal(listed.statusCode, 200);
    assert.deepEqual(listed.json<{ items: { id: number; consumer: string; type: string; lastError: string; payload: unknown }[] }>().items.map((item) => [item.id, item.consumer, item.type, item.lastError, item.payload]), [
      [ordersLetter, 'orders.saga', 'inventory.reserved', 'boom', { orderId: 'ord_1' }],
    ]);

    const wrongModule = await app.inject({ method: 'POST', url: `/v1/admin/orders/dead-letters/${String(inventoryLetter)}/replay` });
    assert.equal(wrongModule.statusCode, 404);
    const replayed = await app.inject({ method: 'POST', url: `/v1/admin/inventory/dead-letters/${String(inventoryLetter)}/replay` });
    assert.equal(replayed.statusCode, 202);
    const retry = await sql<{ attempts: number }>`select attempts from messaging.retries where consumer = 'inventory.reserve-stock'`.execute(db);
    assert.deepEqual(retry.rows, [{ attempts: 0 }]);
    assert.equal((await app.inject({ method: 'POST', url: `/v1/admin/inventory/dead-letters/${String(inventoryLetter)}/replay` })).statusCode, 404);
    assert.deepEqual((await app.inject({ method: 'GET', url: '/v1/admin/inventory/dead-letters' })).json<{ items: unknown[] }>().items, []);
  });

  test('when the id or the page is malformed, then 400 and nothing changes', async () => {
    assert.equal((await app.inject({ method: 'POST', url: '/v1/admin/orders/dead-letters/abc/replay' })).statusCode, 400);
    assert.equal((await app.inject({ method: 'GET', url: '/v1/admin/orders/dead-letters?limit=0' })).statusCode, 400);
  });
});
