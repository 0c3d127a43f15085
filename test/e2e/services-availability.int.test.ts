import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { loadConfig } from '../../src/platform/config/config.ts';
import type { HttpApp } from '../../src/platform/http/app.ts';
import { signPrincipal } from '../../src/platform/http/gateway-signature.ts';
import type { Principal } from '../../src/platform/http/principal.ts';
import { createLogger } from '../../src/platform/logging/logger.ts';
import { InProcessTransport } from '../../src/platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../src/platform/testing/test-database.ts';
import { eventually } from './harness/fulfilment-harness.ts';
import { createServices, type ServicesProcess } from '../../src/apps/services.ts';

/*
 * The catalog and inventory services of the services shape, each in a process of its own making, on
 * a database of its own, sharing only the message transport (in-process here, Kafka in production):
 * the catalog's reads learn availability from inventory's announcements alone.
 */

const secret = randomBytes(32).toString('base64');
const admin: Principal = { id: 'admin-1', email: 'admin@example.com', roles: ['customer', 'admin'] };
const customer: Principal = { id: 'cus-1', email: 'cus@example.com', roles: ['customer'] };
const databases: { url: string; drop: () => Promise<void> }[] = [];
let catalog: ServicesProcess;
let inventory: ServicesProcess;

before(async () => {
  const [catalogDatabase, inventoryDatabase] = await Promise.all([createTestDatabase(embeddedServerUrl(), []), createTestDatabase(embeddedServerUrl(), [])]);
  databases.push(catalogDatabase, inventoryDatabase);
  const config = loadConfig({
    LOG_LEVEL: 'silent', GATEWAY_SECRET: secret, OUTBOX_POLL_INTERVAL_MS: '100', MESSAGE_RETRY_BASE_MS: '20',
    CATALOG_DATABASE_URL: catalogDatabase.url, INVENTORY_DATABASE_URL: inventoryDatabase.url,
  });
  const transport = new InProcessTransport();
  const logger = createLogger({ level: 'silent' });
  const keyEncryptionKey = randomBytes(32).toString('base64');
  catalog = await createServices({ config, logger, roles: ['catalog'], keyEncryptionKey, transport });
  inventory = await createServices({ config, logger, roles: ['inventory'], keyEncryptionKey, transport });
  await Promise.all([catalog.start(), inventory.start()]);
});
after(async () => {
  await Promise.all([catalog.close(), inventory.close()]);
  await Promise.all(databases.map((database) => database.drop()));
});

/** A request as the gateway forwards it: signed for this caller, method, path and body. */
async function send(app: HttpApp, method: string, path: string, principal: Principal | undefined, body?: unknown) {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const requestId = randomUUID();
  const signed = signPrincipal({
    principal, requestId, clientAddress: '127.0.0.1', secret, method, path, body: payload === undefined ? undefined : Buffer.from(payload),
  });
  return app.inject({
    method: method as 'GET', url: path, payload,
    headers: { ...signed, 'x-request-id': requestId, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
  });
}

async function availabilityOf(productId: string, principal: Principal | undefined): Promise<unknown> {
  const response = await send(catalog.app, 'GET', `/v1/products/${productId}`, principal);
  assert.equal(response.statusCode, 200, response.body);
  return response.json<{ availability: unknown }>().availability;
}

describe('availability in the services shape', () => {
  test('when inventory, another service on another database, sets stock, then the catalog service\'s product reads follow', async () => {
    const created = await send(catalog.app, 'POST', '/v1/products', admin, { sku: 'SPLIT-1', name: 'Split mug', price: { amount: 900, currency: 'EUR' } });
    assert.equal(created.statusCode, 201, created.body);
    const productId = created.json<{ id: string }>().id;
    assert.deepEqual(await availabilityOf(productId, admin), { status: 'out-of-stock', available: 0 });

    const stocked = await send(inventory.app, 'PUT', '/v1/inventory/SPLIT-1', admin, { onHand: 3 });
    assert.equal(stocked.statusCode, 200, stocked.body);
    await eventually(async () => JSON.stringify(await availabilityOf(productId, admin)) === JSON.stringify({ status: 'low', available: 3 }), 'the stock to reach the catalog');
    assert.deepEqual(await availabilityOf(productId, customer), { status: 'low' });

    const catalogDatabase = catalog.databases.get('catalog');
    assert.ok(catalogDatabase);
    const tables = await sql<{ name: string }>`select table_schema || '.' || table_name as name from information_schema.tables where table_schema = 'inventory'`.execute(catalogDatabase);
    assert.deepEqual(tables.rows, [], 'the catalog\'s database holds none of inventory\'s tables');
  });
});
