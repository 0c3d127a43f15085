import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { migrate } from '../../../../platform/database/migrations.ts';
import { messagingMigrations } from '../../../../platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import { inventoryMigrations } from '../../index.ts';

let db: Database;
let drop: () => Promise<void>;
let firstMigrations: string;

before(async () => {
  ({ db, drop } = await createTestDatabase(embeddedServerUrl(), [messagingMigrations]));
  // The inventory's migrations as a database made before stock was announced had them.
  firstMigrations = await mkdtemp(path.join(tmpdir(), 'inventory-migrations-'));
  await copyFile(new URL('001_create_stock_and_reservations.sql', inventoryMigrations.directory), path.join(firstMigrations, '001_create_stock_and_reservations.sql'));
});
after(async () => {
  await drop();
  await rm(firstMigrations, { recursive: true, force: true });
});

test('when a database that has stock is migrated, then that stock is announced once, as the stores announce it', async () => {
  await migrate(db, [{ ...inventoryMigrations, directory: pathToFileURL(`${firstMigrations}/`) }]);
  await sql`insert into inventory.stock_items (sku, on_hand, reserved) values ('OLD-1', 10, 4), ('OLD-2', 0, 0)`.execute(db);

  await migrate(db, [inventoryMigrations]);
  await migrate(db, [inventoryMigrations]);

  const announced = await sql<{ topic: string; key: string; payload: unknown }>`
    select topic, key, payload from messaging.outbox where type = 'inventory.stock-changed' order by position`.execute(db);
  assert.deepEqual(announced.rows, [
    { topic: 'orderstream.inventory.v1', key: 'OLD-1', payload: { sku: 'OLD-1', available: 6, stockVersion: 1 } },
    { topic: 'orderstream.inventory.v1', key: 'OLD-2', payload: { sku: 'OLD-2', available: 0, stockVersion: 1 } },
  ]);
});
