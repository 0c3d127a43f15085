import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { RetentionSweeper } from '../../../../platform/database/retention-sweeper.ts';
import { messagingMigrations } from '../../../../platform/messaging/index.ts';
import { memoryLogger } from '../../../../platform/testing/memory-logger.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import { jobsMigrations } from '../../index.ts';
import { jobRetentionRules } from './job-retention.ts';

let db: Database;
let drop: () => Promise<void>;

before(async () => { ({ db, drop } = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, jobsMigrations])); });
after(async () => { await drop(); });

type Status = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** A job in `status`, created 90 days ago and (when finished) finished `finishedDaysAgo` days ago, with `rowErrors` row errors. */
async function jobOf(id: string, kind: 'catalog-import' | 'invoice', status: Status, finishedDaysAgo: number | null, rowErrors = 0): Promise<void> {
  const finishedAt = finishedDaysAgo === null ? sql`null` : sql`now() - make_interval(days => ${finishedDaysAgo})`;
  await sql`
    insert into jobs.jobs (id, kind, status, subject, created_at, updated_at, finished_at)
    values (${id}, ${kind}, ${status}, ${kind === 'invoice' ? `order-of-${id}` : null}, now() - interval '90 days', now() - interval '90 days', ${finishedAt})`.execute(db);
  if (rowErrors > 0) {
    await sql`insert into jobs.row_errors (job_id, line, reason) select ${id}, line, 'bad price' from generate_series(2, ${rowErrors + 1}) as line`.execute(db);
  }
}

function sweeper(limits: { batchSize: number; maxBatches: number }, counted: [string, number][] = []): RetentionSweeper {
  return new RetentionSweeper({
    name: 'jobs.retention', db, logger: memoryLogger().logger, rules: jobRetentionRules(30 * 86_400),
    intervalMs: 60_000, limits: { ...limits, pauseMs: 0 },
    metrics: { rowsDeleted: (table, count) => { counted.push([table, count]); } },
  });
}

test('when finished jobs are past retention, then they and their row errors are deleted; unfinished, recent and invoiced ones stay', async () => {
  await jobOf('import-old-succeeded', 'catalog-import', 'succeeded', 40, 3);
  await jobOf('import-old-failed', 'catalog-import', 'failed', 31);
  await jobOf('import-old-cancelled', 'catalog-import', 'cancelled', 35, 1);
  await jobOf('import-recent-succeeded', 'catalog-import', 'succeeded', 29, 2);
  await jobOf('import-queued', 'catalog-import', 'queued', null);
  await jobOf('import-running', 'catalog-import', 'running', null, 2);
  await jobOf('invoice-old-failed', 'invoice', 'failed', 60);
  await jobOf('invoice-old-succeeded', 'invoice', 'succeeded', 60);
  await sql`
    insert into jobs.invoices (order_id, customer_id, job_id, document_key, created_at)
    values ('order-of-invoice-old-succeeded', 'customer-1', 'invoice-old-succeeded', 'invoices/order-of-invoice-old-succeeded.pdf', now() - interval '60 days')`.execute(db);
  const counted: [string, number][] = [];

  assert.deepEqual(await sweeper({ batchSize: 100, maxBatches: 10 }, counted).sweepOnce(), { 'jobs.row_errors': 4, 'jobs.jobs': 4 });
  assert.deepEqual(counted, [['jobs.row_errors', 4], ['jobs.jobs', 4]]);

  const jobs = await sql<{ id: string }>`select id from jobs.jobs order by id`.execute(db);
  assert.deepEqual(jobs.rows.map((row) => row.id), ['import-queued', 'import-recent-succeeded', 'import-running', 'invoice-old-succeeded']);
  const errors = await sql<{ job_id: string; count: number }>`select job_id, count(*)::int as count from jobs.row_errors group by job_id order by job_id`.execute(db);
  assert.deepEqual(errors.rows, [{ job_id: 'import-recent-succeeded', count: 2 }, { job_id: 'import-running', count: 2 }]);
  await sql`delete from jobs.invoices`.execute(db);
  await sql`delete from jobs.row_errors`.execute(db);
  await sql`delete from jobs.jobs`.execute(db);
});

test('when a job has more row errors than a pass may delete, then the job waits for a later pass and goes once its errors are gone', async () => {
  await jobOf('import-many-errors', 'catalog-import', 'failed', 40, 5);
  const limited = sweeper({ batchSize: 2, maxBatches: 2 });

  assert.deepEqual(await limited.sweepOnce(), { 'jobs.row_errors': 4, 'jobs.jobs': 0 }, 'two batches of two errors; the job still has one');
  assert.deepEqual(await limited.sweepOnce(), { 'jobs.row_errors': 1, 'jobs.jobs': 1 });

  const left = await sql<{ count: number }>`select (select count(*) from jobs.jobs)::int + (select count(*) from jobs.row_errors)::int as count`.execute(db);
  assert.equal(left.rows[0]?.count, 0);
});
