import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { createDatabase, type Database } from '../../../../platform/database/database.ts';
import { messagingMigrations } from '../../../../platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import { RecordInvoice } from '../../application/record-invoice.ts';
import { jobsMigrations } from '../../index.ts';
import { BatchInvoiceRecords } from './batch-invoice-records.ts';
import { PgInvoiceRepository } from './pg-invoice-repository.ts';

let db: Database;
let url: string;
let drop: () => Promise<void>;

before(async () => { ({ db, url, drop } = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, jobsMigrations])); });
after(async () => { await drop(); });

function confirmed(orderId: string) {
  return {
    orderId, customer: { id: 'cus_1', email: 'ada@example.com' },
    lines: [{ sku: 'TEA', name: 'Tea', quantity: 1, unitPrice: { amount: 450, currency: 'EUR' }, lineTotal: { amount: 450, currency: 'EUR' } }],
    total: { amount: 450, currency: 'EUR' }, confirmedAt: '2026-12-04T10:00:00.000Z',
  };
}

test('when a batch confirms orders, some twice and one invoiced before, then each order gets one invoice, written when the batch ends', async () => {
  await db.transaction().execute((transaction) => new RecordInvoice({ invoices: new PgInvoiceRepository(transaction), seller: 'Shop' }).execute(confirmed('ord_before')));
  const batchOf = ['ord_a', 'ord_b', 'ord_a', 'ord_before', 'ord_c'];

  const answers = await db.transaction().execute(async (transaction) => {
    const invoices = await BatchInvoiceRecords.read(transaction, batchOf);
    const record = new RecordInvoice({ invoices, seller: 'Shop' });
    const recorded: boolean[] = [];
    for (const orderId of batchOf) recorded.push(await record.execute(confirmed(orderId)));
    await invoices.write();
    return recorded;
  });

  assert.deepEqual(answers, [true, true, false, false, true]);
  const rows = await sql<{ order_id: string; seller: string }>`select order_id, facts->>'seller' as seller from jobs.invoices order by order_id`.execute(db);
  assert.deepEqual(rows.rows, ['ord_a', 'ord_b', 'ord_before', 'ord_c'].map((order_id) => ({ order_id, seller: 'Shop' })));
});

test('when another transaction records one of a batch\'s invoices meanwhile, then writing the batch fails, so its confirmations are recorded one by one', async () => {
  // Another process's pool, as a second instance of the service would have.
  const other = createDatabase({ url, poolSize: 1 });
  await assert.rejects(db.transaction().execute(async (transaction) => {
    const invoices = await BatchInvoiceRecords.read(transaction, ['ord_x', 'ord_y']);
    const record = new RecordInvoice({ invoices, seller: 'Shop' });
    await record.execute(confirmed('ord_x'));
    await record.execute(confirmed('ord_y'));
    await new RecordInvoice({ invoices: new PgInvoiceRepository(other), seller: 'Shop' }).execute(confirmed('ord_y'));
    await invoices.write();
  }), /recorded by another transaction/);
  await other.destroy();
  const rows = await sql<{ order_id: string }>`select order_id from jobs.invoices where order_id in ('ord_x', 'ord_y')`.execute(db);
  assert.deepEqual(rows.rows, [{ order_id: 'ord_y' }], 'the batch left nothing; the other transaction\'s invoice stands');
});
