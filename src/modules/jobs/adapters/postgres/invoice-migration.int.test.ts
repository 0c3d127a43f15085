import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { migrate } from '../../../../platform/database/migrations.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import { jobsMigrations } from '../../index.ts';

let db: Database;
let drop: () => Promise<void>;
let before003: string;

// The jobs schema as it was while invoices were drawn by jobs: its first two migrations only.
before(async () => {
  before003 = await mkdtemp(join(tmpdir(), 'orderstream-jobs-migrations-'));
  for (const file of ['001_create_jobs.sql', '002_job_retention_indexes.sql']) {
    await copyFile(new URL(file, jobsMigrations.directory), join(before003, file));
  }
  ({ db, drop } = await createTestDatabase(embeddedServerUrl(), [{ ...jobsMigrations, directory: pathToFileURL(`${before003}/`) }]));
});
after(async () => {
  await drop();
  await rm(before003, { recursive: true, force: true });
});

function confirmedOrder(orderId: string) {
  return {
    orderId, customer: { id: `customer-of-${orderId}`, email: 'ada@example.com' },
    lines: [{ sku: 'TEA', name: 'Tea', quantity: 1, unitPrice: { amount: 450, currency: 'EUR' }, lineTotal: { amount: 450, currency: 'EUR' } }],
    total: { amount: 450, currency: 'EUR' }, confirmedAt: '2026-11-30T10:00:00.000Z',
  };
}

async function invoiceJob(orderId: string, status: string): Promise<void> {
  await sql`
    insert into jobs.jobs (id, kind, status, subject, input, created_at, updated_at, finished_at)
    values (${`job-${orderId}`}, 'invoice', ${status}, ${orderId}, ${JSON.stringify(confirmedOrder(orderId))}::jsonb, now(), now(),
            ${status === 'queued' || status === 'running' ? null : new Date()})`.execute(db);
}

test('when invoices are moved from jobs to first downloads, then every order keeps its invoice: drawn ones as they were, the others to be drawn from their job\'s order', async () => {
  await invoiceJob('drawn', 'succeeded');
  await sql`insert into jobs.invoices (order_id, customer_id, job_id, document_key, created_at)
            values ('drawn', 'customer-of-drawn', 'job-drawn', 'invoices/drawn.pdf', now())`.execute(db);
  await invoiceJob('queued', 'queued');
  await invoiceJob('running', 'running');
  await invoiceJob('failed', 'failed');

  await migrate(db, [jobsMigrations]);

  const invoices = await sql<{ order_id: string; customer_id: string; document_key: string | null; facts: { orderId: string } | null }>`
    select order_id, customer_id, document_key, facts from jobs.invoices order by order_id`.execute(db);
  assert.deepEqual(invoices.rows.map((row) => [row.order_id, row.customer_id, row.document_key, row.facts?.orderId ?? null]), [
    ['drawn', 'customer-of-drawn', 'invoices/drawn.pdf', null],
    ['failed', 'customer-of-failed', null, 'failed'],
    ['queued', 'customer-of-queued', null, 'queued'],
    ['running', 'customer-of-running', null, 'running'],
  ]);
  assert.deepEqual(invoices.rows.find((row) => row.order_id === 'queued')?.facts, confirmedOrder('queued'));
  const jobs = await sql<{ id: string; status: string }>`select id, status from jobs.jobs order by id`.execute(db);
  assert.deepEqual(jobs.rows, [
    { id: 'job-drawn', status: 'succeeded' }, { id: 'job-failed', status: 'failed' },
    { id: 'job-queued', status: 'cancelled' }, { id: 'job-running', status: 'cancelled' },
  ]);
});

test('when an invoice has neither a document nor the facts to draw one, then the database refuses it', async () => {
  await assert.rejects(sql`insert into jobs.invoices (order_id, customer_id, created_at) values ('nothing', 'c', now())`.execute(db), /invoices_drawn_or_drawable/);
});
