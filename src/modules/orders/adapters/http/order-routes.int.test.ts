import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Database } from '../../../../platform/database/database.ts';
import { createHttpApp, type HttpApp } from '../../../../platform/http/app.ts';
import { createLogger } from '../../../../platform/logging/logger.ts';
import { auditMigrations } from '../../../../platform/audit/index.ts';
import { messagingMigrations } from '../../../../platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import { createOrdersModule, ordersMigrations } from '../../index.ts';

let app: HttpApp;
let db: Database;
let drop: () => Promise<void>;

before(async () => {
  ({ db, drop } = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, auditMigrations, ordersMigrations]));
  const orders = createOrdersModule({
    db,
    logger: createLogger({ level: 'silent' }),
    // Every SKU exists at one price: these tests are about the orders API, not the catalogue.
    catalog: { findProductsBySku: (skus) => Promise.resolve(skus.map((sku) => ({ id: `prod_${sku}`, sku, name: `Product ${sku}`, price: { amount: 500, currency: 'EUR' } }))) },
    stepTimeoutMs: 60_000,
    idempotencyTtlHours: 24,
    devIdentityHeaders: true,
  });
  app = createHttpApp({ logger: createLogger({ level: 'silent' }), bodyLimit: 16 * 1024, routes: [orders.routes], readiness: [] });
  await app.ready();
});
after(async () => {
  await app.close();
  await drop();
});

const headersOf = (customerId: string) => ({ 'x-dev-customer-id': customerId });

async function placeOrder(customerId: string): Promise<string> {
  const response = await app.inject({
    method: 'POST', url: '/v1/orders', headers: { ...headersOf(customerId), 'idempotency-key': crypto.randomUUID() },
    payload: { items: [{ sku: 'CUP-1', quantity: 1 }], payment: { token: 'tok_visa' } },
  });
  assert.equal(response.statusCode, 202, response.body);
  return response.json<{ id: string }>().id;
}

describe('GET /v1/orders', () => {
  test('when following nextCursor, then each of the caller\'s orders is listed once, newest first, and no one else\'s', async () => {
    const ids = [await placeOrder('cus_pager'), await placeOrder('cus_pager'), await placeOrder('cus_pager')];
    const foreign = await placeOrder('cus_other');
    const seen: { id: string; createdAt: string }[] = [];
    let url = '/v1/orders?limit=2';
    for (;;) {
      const response = await app.inject({ method: 'GET', url, headers: headersOf('cus_pager') });
      assert.equal(response.statusCode, 200, response.body);
      const page = response.json<{ items: { id: string; createdAt: string }[]; nextCursor: string | null }>();
      seen.push(...page.items);
      if (page.nextCursor === null) break;
      url = `/v1/orders?limit=2&cursor=${encodeURIComponent(page.nextCursor)}`;
    }
    assert.deepEqual(seen.map((order) => order.id).sort(), [...ids].sort());
    assert.ok(!seen.some((order) => order.id === foreign));
    const times = seen.map((order) => Date.parse(order.createdAt));
    assert.deepEqual(times, [...times].sort((a, b) => b - a));
  });

  test('when the cursor is not one we issued, then 400 problem+json names cursor', async () => {
    const response = await app.inject({ method: 'GET', url: '/v1/orders?cursor=abc', headers: headersOf('cus_pager') });
    assert.equal(response.statusCode, 400);
    const problem = response.json<{ type: string; errors: { location: string; field: string }[] }>();
    assert.equal(problem.type, 'https://orderstream.dev/problems/validation-error');
    assert.deepEqual(problem.errors.map((error) => [error.location, error.field]), [['querystring', 'cursor']]);
  });
});
