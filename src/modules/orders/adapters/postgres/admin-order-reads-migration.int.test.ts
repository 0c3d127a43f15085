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
import { ordersMigrations } from '../../index.ts';
import { PgOrderOperationsReader } from './pg-order-operations-reader.ts';

let db: Database;
let drop: () => Promise<void>;
let firstMigrations: string;

before(async () => {
  ({ db, drop } = await createTestDatabase(embeddedServerUrl(), [messagingMigrations]));
  // The orders' migrations as a database made before the admin's reads had them.
  firstMigrations = await mkdtemp(path.join(tmpdir(), 'orders-migrations-'));
  for (const file of ['001_create_orders.sql', '002_idempotency_claim_token.sql', '003_compensation_deadline.sql']) {
    await copyFile(new URL(file, ordersMigrations.directory), path.join(firstMigrations, file));
  }
});
after(async () => {
  await drop();
  await rm(firstMigrations, { recursive: true, force: true });
});

test('when a database that has orders is migrated, then the admin list finds each by email, SKU and placing time, and its confirmation is counted', async () => {
  await migrate(db, [{ ...ordersMigrations, directory: pathToFileURL(`${firstMigrations}/`) }]);
  const placedAt = new Date('2026-03-02T10:00:00Z');
  const confirmedAt = new Date('2026-03-02T10:00:02Z');
  const lines = [{ sku: 'TEA-1', name: 'Tea', quantity: 2, unitPrice: { amount: 400, currency: 'EUR' } }, { sku: 'MUG-1', name: 'Mug', quantity: 1, unitPrice: { amount: 900, currency: 'EUR' } }];
  const timeline = [{ step: 'placed', at: placedAt.toISOString() }, { step: 'confirmed', at: confirmedAt.toISOString() }];
  await sql`insert into orders.orders (id, customer_id, customer_email, status, lines, total_amount, currency, payment_token,
      started_steps, current_step, step_deadline, timeline, created_at, updated_at, version)
    values ('ord_before', 'cus_before', 'Old@Example.com', 'CONFIRMED', ${JSON.stringify(lines)}::jsonb, 1700, 'EUR', 'tok_visa',
      '{reserve-stock,authorize-payment,capture-payment,commit-stock}', null, null, ${JSON.stringify(timeline)}::jsonb, ${placedAt}, ${confirmedAt}, 5)`.execute(db);

  await migrate(db, [ordersMigrations]);

  const orders = new PgOrderOperationsReader(db);
  const found = async (filter: Parameters<PgOrderOperationsReader['listAll']>[0]) => (await orders.listAll(filter, { limit: 10 })).items.map((order) => order.id);
  assert.deepEqual(await found({}), ['ord_before']);
  assert.deepEqual(await found({ email: 'old@example.COM' }), ['ord_before']);
  assert.deepEqual(await found({ sku: 'MUG-1' }), ['ord_before']);
  assert.deepEqual(await found({ sku: 'PEN-2' }), []);
  assert.deepEqual(await found({ from: placedAt, to: confirmedAt, status: 'CONFIRMED' }), ['ord_before']);
  assert.deepEqual(await found({ from: confirmedAt }), []);
  const counts = await orders.countPerMinute(new Date(placedAt.getTime() - 60_000));
  assert.equal(counts.placed.get(placedAt.getTime()), 1);
  assert.equal(counts.confirmed.get(Date.parse('2026-03-02T10:00:00Z')), 1);
  assert.deepEqual(await orders.confirmationP95(placedAt), { seconds: 2, confirmed: 1 });
});
