import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { createHttpApp, type HttpApp } from '../../../../platform/http/app.ts';
import { createLogger } from '../../../../platform/logging/logger.ts';
import { auditMigrations } from '../../../../platform/audit/index.ts';
import { messagingMigrations } from '../../../../platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import { createInventoryModule, inventoryMigrations } from '../../index.ts';

let app: HttpApp;
let db: Database;
let drop: () => Promise<void>;

interface Level {
  sku: string;
  onHand: number;
  reserved: number;
  available: number;
}

// Stored as reservations leave them: some units of some SKUs are promised to orders.
const stored: Level[] = Array.from({ length: 23 }, (_, index) => {
  const onHand = (index * 7) % 30;
  const reserved = Math.min(onHand, index % 4);
  return { sku: `SKU-${String(index).padStart(3, '0')}${index % 5 === 0 ? '.B' : ''}`, onHand, reserved, available: onHand - reserved };
});

before(async () => {
  ({ db, drop } = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, auditMigrations, inventoryMigrations]));
  const logger = createLogger({ level: 'silent' });
  app = createHttpApp({ logger, bodyLimit: 16 * 1024, routes: [createInventoryModule({ db, logger, reservationTtlSeconds: 900 }).routes], readiness: [] });
  await app.ready();
  for (const level of stored) {
    await sql`insert into inventory.stock_items (sku, on_hand, reserved) values (${level.sku}, ${level.onHand}, ${level.reserved})`.execute(db);
  }
});
after(async () => {
  await app.close();
  await drop();
});

async function listAll(query: string): Promise<Level[]> {
  const seen: Level[] = [];
  let url = `/v1/admin/stock-levels?${query}`;
  for (let pages = 0; pages <= stored.length; pages += 1) {
    const response = await app.inject({ method: 'GET', url });
    assert.equal(response.statusCode, 200, response.body);
    const page = response.json<{ items: Level[]; nextCursor: string | null }>();
    seen.push(...page.items);
    if (page.nextCursor === null) return seen;
    url = `/v1/admin/stock-levels?${query}&cursor=${encodeURIComponent(page.nextCursor)}`;
  }
  return assert.fail('more pages than SKUs');
}

// The database's own order of SKUs (its collation), which the pages follow.
async function inSkuOrder(levels: readonly Level[]): Promise<string[]> {
  if (levels.length === 0) return [];
  const result = await sql<{ sku: string }>`select sku from unnest(${levels.map((level) => level.sku)}::text[]) as sku order by sku`.execute(db);
  return result.rows.map((row) => row.sku);
}

describe('GET /v1/admin/stock-levels', () => {
  test('when following nextCursor at any page size, then every SKU is listed once, in SKU order, with its levels', async () => {
    for (const limit of [1, 4, 20, 100]) {
      const seen = await listAll(`limit=${String(limit)}`);
      assert.deepEqual(seen.map((level) => level.sku), await inSkuOrder(stored), `limit ${String(limit)}`);
      assert.deepEqual([...seen].sort((a, b) => (a.sku < b.sku ? -1 : 1)), [...stored].sort((a, b) => (a.sku < b.sku ? -1 : 1)));
    }
    const first = await app.inject({ method: 'GET', url: '/v1/admin/stock-levels' });
    assert.equal(first.json<{ items: Level[] }>().items.length, 20, 'twenty by default');
  });

  test('when asking for low stock, then only SKUs with fewer units available than `below` are listed, across pages', async () => {
    for (const below of [1, 5, 12, 1_000]) {
      const seen = await listAll(`below=${String(below)}&limit=3`);
      assert.deepEqual(seen.map((level) => level.sku), await inSkuOrder(stored.filter((level) => level.available < below)), `below ${String(below)}`);
    }
  });

  const badQueries: [string, string][] = [
    ['below=0', 'below'],
    ['below=-3', 'below'],
    ['below=few', 'below'],
    ['below=2.5', 'below'],
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['cursor=abc', 'cursor'],
    [`cursor=${Buffer.from('lower-case').toString('base64url')}`, 'cursor'],
    ['sku=SKU-001', ''],
  ];
  for (const [query, field] of badQueries) {
    test(`when the query is ${query}, then 400 problem+json${field === '' ? '' : ` names ${field}`}`, async () => {
      const response = await app.inject({ method: 'GET', url: `/v1/admin/stock-levels?${query}` });
      assert.equal(response.statusCode, 400, response.body);
      assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
      const problem = response.json<{ errors?: { location: string; field: string }[] }>();
      if (field !== '') assert.ok(problem.errors?.some((error) => error.location === 'querystring' && error.field === field), response.body);
    });
  }
});
