import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../platform/config/config.ts';
import type { Database } from '../platform/database/database.ts';
import type { ModuleName } from './module-registry.ts';
import { serviceDatabaseUrls, tableSizeSources } from './services.ts';

describe('tableSizeSources', () => {
  // Only handed on, never queried here.
  const pool = (url: string) => ({ url }) as unknown as Database;

  test('when each role has its own database, then each is measured under its module\'s name', () => {
    const databases = new Map<ModuleName, { db: Database; url: string }>([
      ['orders', { db: pool('orders'), url: 'postgres://db/orders' }],
      ['payments', { db: pool('payments'), url: 'postgres://db/payments' }],
    ]);

    assert.deepEqual(tableSizeSources(databases).map((source) => source.database), ['orders', 'payments']);
  });

  test('when two roles share one database, then it is measured once, under both names', () => {
    const shared = pool('shared');
    const databases = new Map<ModuleName, { db: Database; url: string }>([
      ['orders', { db: shared, url: 'postgres://db/orderstream' }],
      ['jobs', { db: pool('jobs'), url: 'postgres://db/jobs' }],
      ['payments', { db: pool('also shared'), url: 'postgres://db/orderstream' }],
    ]);

    const sources = tableSizeSources(databases);

    assert.deepEqual(sources.map((source) => source.database), ['orders+payments', 'jobs']);
    assert.equal(sources[0]?.db, shared);
  });
});

describe('serviceDatabaseUrls', () => {
  test('when a role has its own variable, then it is checked under that name; else under DATABASE_URL, each database once', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://db/shared', ORDERS_DATABASE_URL: 'postgres://db/orders', PAYMENTS_DATABASE_URL: 'postgres://db/orders',
    });

    assert.deepEqual(serviceDatabaseUrls(config, ['orders', 'payments', 'catalog', 'jobs']), [
      { variable: 'ORDERS_DATABASE_URL', url: 'postgres://db/orders' },
      { variable: 'DATABASE_URL', url: 'postgres://db/shared' },
    ]);
  });

  test('when a role has no database at all, then it is left out (createServices reports it)', () => {
    assert.deepEqual(serviceDatabaseUrls(loadConfig({ CATALOG_DATABASE_URL: 'postgres://db/catalog' }), ['catalog', 'orders']), [
      { variable: 'CATALOG_DATABASE_URL', url: 'postgres://db/catalog' },
    ]);
  });
});
