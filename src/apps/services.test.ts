import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Database } from '../platform/database/database.ts';
import type { ModuleName } from './modules.ts';
import { tableSizeSources } from './services.ts';

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
