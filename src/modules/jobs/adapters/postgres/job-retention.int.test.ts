import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { RetentionSweeper } from '../../../../platform/database/retention-sweeper.ts';
import { messagingMigrations } from '../../../../platform/messaging/index.ts';
import { memoryLogger } from '../../../../platform/testing/memory-logger.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import { jobsMigrations } from '../../index.ts';
import type { DocumentStore } from '../../application/ports.ts';
import { RemoveExpiredDocuments } from '../../application/remove-expired-documents.ts';
import { FilesystemDocumentStore } from '../documents/filesystem-document-store.ts';
import { jobRetentionRules } from './job-retention.ts';
import { PgExpiredJobs } from './pg-expired-jobs.ts';

let db: Database;
let drop: () => Promise<void>;
let directory: string;
let documents: FilesystemDocumentStore;

before(async () => {
  ({ db, drop } = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, jobsMigrations]));
  directory = await mkdtemp(join(tmpdir(), 'orderstream-job-retention-'));
  documents = new FilesystemDocumentStore({ directory });
});
after(async () => {
  await drop();
  await rm(directory, { recursive: true, force: true });
});

type Status = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
type Kind = 'catalog-import' | 'invoice' | 'order-export';

/**
 * A job in `status`, created 90 days ago and (when finished) finished `finishedDaysAgo` days ago, with
 * `rowErrors` row errors; an import reads `imports/<id>.csv` when `upload` is set, an export is written as CSV.
 */
async function jobOf(id: string, kind: Kind, status: Status, finishedDaysAgo: number | null, rowErrors = 0, options: { upload?: boolean; resultKey?: string } = {}): Promise<void> {
  const finishedAt = finishedDaysAgo === null ? sql`null` : sql`now() - make_interval(days => ${finishedDaysAgo})`;
  const inputKey = options.upload === true ? `imports/${id}.csv` : null;
  const input = kind === 'order-export' ? JSON.stringify({ format: 'csv', filter: {}, placedBefore: '2026-01-01T00:00:00.000Z' }) : null;
  await sql`
    insert into jobs.jobs (id, kind, status, subject, input_key, input, result_key, created_at, updated_at, finished_at)
    values (${id}, ${kind}, ${status}, ${kind === 'invoice' ? `order-of-${id}` : null}, ${inputKey}, ${input}::jsonb, ${options.resultKey ?? null},
      now() - interval '90 days', now() - interval '90 days', ${finishedAt})`.execute(db);
  if (inputKey !== null) await stored(inputKey);
  if (rowErrors > 0) {
    await sql`insert into jobs.row_errors (job_id, line, reason) select ${id}, line, 'bad price' from generate_series(2, ${rowErrors + 1}) as line`.execute(db);
  }
}

/** Stores a small document under `key`. */
async function stored(key: string): Promise<void> {
  await documents.put(key, Readable.from([Buffer.from('sku,name\n')]), { maxBytes: 1024 });
}

/** Stores an export's part and, unless `recorded` is false (an attempt stopped between the two), records it. */
async function partOf(jobId: string, part: number, recorded = true): Promise<string> {
  const key = `exports/${jobId}/part-${String(part).padStart(6, '0')}.csv`;
  await stored(key);
  if (recorded) {
    await sql`insert into jobs.export_parts (job_id, part, document_key, orders, bytes) values (${jobId}, ${part}, ${key}, 1, 9)`.execute(db);
  }
  return key;
}

function isStored(key: string): boolean {
  return existsSync(join(directory, ...key.split('/')));
}

async function jobIds(): Promise<string[]> {
  const rows = await sql<{ id: string }>`select id from jobs.jobs order by id`.execute(db);
  return rows.rows.map((row) => row.id);
}

/** One pass of document removal over the jobs kept 30 days, through `store`. */
function removeExpired(store: DocumentStore = documents, limits: { batchSize?: number } = {}): RemoveExpiredDocuments {
  return new RemoveExpiredDocuments({ expired: new PgExpiredJobs(db, 30 * 86_400), documents: store, limits: { ...limits, removeTimeoutMs: 5000 } });
}

async function clean(): Promise<void> {
  await sql`delete from jobs.invoices`.execute(db);
  await sql`delete from jobs.row_errors`.execute(db);
  await sql`delete from jobs.jobs`.execute(db);
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

  assert.deepEqual(await removeExpired().execute(), { jobs: 3, documents: 0, failures: [] }, 'the old imports had no upload: marked without a store call');
  assert.deepEqual(await sweeper({ batchSize: 100, maxBatches: 10 }, counted).sweepOnce(), { 'jobs.row_errors': 4, 'jobs.jobs': 4 });
  assert.deepEqual(counted, [['jobs.row_errors', 4], ['jobs.jobs', 4]]);

  const jobs = await sql<{ id: string }>`select id from jobs.jobs order by id`.execute(db);
  assert.deepEqual(jobs.rows.map((row) => row.id), ['import-queued', 'import-recent-succeeded', 'import-running', 'invoice-old-succeeded']);
  const errors = await sql<{ job_id: string; count: number }>`select job_id, count(*)::int as count from jobs.row_errors group by job_id order by job_id`.execute(db);
  assert.deepEqual(errors.rows, [{ job_id: 'import-recent-succeeded', count: 2 }, { job_id: 'import-running', count: 2 }]);
  await clean();
});

test('when a job has more row errors than a pass may delete, then the job waits for a later pass and goes once its errors are gone', async () => {
  await jobOf('import-many-errors', 'catalog-import', 'failed', 40, 5);
  const limited = sweeper({ batchSize: 2, maxBatches: 2 });
  await removeExpired().execute();

  assert.deepEqual(await limited.sweepOnce(), { 'jobs.row_errors': 4, 'jobs.jobs': 0 }, 'two batches of two errors; the job still has one');
  assert.deepEqual(await limited.sweepOnce(), { 'jobs.row_errors': 1, 'jobs.jobs': 1 });

  const left = await sql<{ count: number }>`select (select count(*) from jobs.jobs)::int + (select count(*) from jobs.row_errors)::int as count`.execute(db);
  assert.equal(left.rows[0]?.count, 0);
});

test('when an export and an import pass their retention, then their files are removed, and only then their rows', async () => {
  await jobOf('import-old', 'catalog-import', 'succeeded', 40, 2, { upload: true });
  await jobOf('export-old', 'order-export', 'cancelled', 31);
  const exportParts = [await partOf('export-old', 1), await partOf('export-old', 2), await partOf('export-old', 3, false)];
  const oldFiles = ['imports/import-old.csv', ...exportParts];
  await jobOf('import-recent', 'catalog-import', 'failed', 29, 0, { upload: true });
  await jobOf('import-queued', 'catalog-import', 'queued', null, 0, { upload: true });
  await jobOf('import-running', 'catalog-import', 'running', null, 1, { upload: true });
  await jobOf('export-running', 'order-export', 'running', null);
  const keptFiles = ['imports/import-recent.csv', 'imports/import-queued.csv', 'imports/import-running.csv', await partOf('export-running', 1), await partOf('export-running', 2, false)];
  const rows = sweeper({ batchSize: 100, maxBatches: 10 });

  assert.deepEqual(await rows.sweepOnce(), { 'jobs.row_errors': 2, 'jobs.jobs': 0 }, 'a job whose documents are still stored keeps its row');
  assert.ok(oldFiles.every(isStored));

  assert.deepEqual(await removeExpired().execute(), { jobs: 2, documents: 4, failures: [] }, 'the upload, two recorded parts and the one an attempt left unrecorded');
  assert.deepEqual(oldFiles.filter(isStored), []);
  assert.ok(!existsSync(join(directory, 'exports', 'export-old')), 'the export\'s folder went with its last part');
  assert.deepEqual(await jobIds(), ['export-old', 'export-running', 'import-old', 'import-queued', 'import-recent', 'import-running'], 'the rows stay until the sweeper comes');

  assert.deepEqual(await rows.sweepOnce(), { 'jobs.row_errors': 0, 'jobs.jobs': 2 });
  assert.deepEqual(await jobIds(), ['export-running', 'import-queued', 'import-recent', 'import-running']);
  const parts = await sql<{ job_id: string }>`select distinct job_id from jobs.export_parts`.execute(db);
  assert.deepEqual(parts.rows, [{ job_id: 'export-running' }]);
  assert.deepEqual(keptFiles.filter((key) => !isStored(key)), [], 'a queued, running or recent job\'s documents are untouched');
  assert.deepEqual(await removeExpired().execute(), { jobs: 0, documents: 0, failures: [] });
  await clean();
});

test('when the store fails to remove a file, then its job keeps its row and its file, the others go on, and a later pass finishes it', async () => {
  await jobOf('import-stuck', 'catalog-import', 'failed', 50, 0, { upload: true });
  await jobOf('import-next', 'catalog-import', 'succeeded', 40, 0, { upload: true });
  await jobOf('import-last', 'catalog-import', 'succeeded', 35, 0, { upload: true });
  let failing = true;
  const flaky: DocumentStore = {
    put: (key, content, limits) => documents.put(key, content, limits),
    read: (key) => documents.read(key),
    remove: (key) => failing && key === 'imports/import-stuck.csv' ? Promise.reject(new Error('EACCES: permission denied')) : documents.remove(key),
  };
  const rows = sweeper({ batchSize: 100, maxBatches: 10 });

  const report = await removeExpired(flaky, { batchSize: 2 }).execute();
  assert.deepEqual({ ...report, failures: report.failures.map(({ jobId, documentKey }) => ({ jobId, documentKey })) },
    { jobs: 2, documents: 2, failures: [{ jobId: 'import-stuck', documentKey: 'imports/import-stuck.csv' }] },
    'batches of two: the stuck job and the next, then the last without the stuck one');
  assert.match(String(report.failures[0]?.error), /permission denied/);
  await rows.sweepOnce();
  assert.deepEqual(await jobIds(), ['import-stuck']);
  assert.ok(isStored('imports/import-stuck.csv'));

  failing = false;
  assert.deepEqual(await removeExpired(flaky).execute(), { jobs: 1, documents: 1, failures: [] });
  await rows.sweepOnce();
  assert.deepEqual(await jobIds(), []);
  assert.ok(!isStored('imports/import-stuck.csv'));
});

test('when an invoice job passes its retention, then its row goes without waiting for documents and its invoice\'s PDF is untouched', async () => {
  // Decision 0014: an invoice drawn on download is stored under the key an invoice job of before used.
  await jobOf('invoice-old', 'invoice', 'failed', 60, 0, { resultKey: 'invoices/order-of-invoice-old.pdf' });
  await stored('invoices/order-of-invoice-old.pdf');

  assert.deepEqual(await removeExpired().execute(), { jobs: 0, documents: 0, failures: [] });
  assert.deepEqual(await sweeper({ batchSize: 100, maxBatches: 10 }).sweepOnce(), { 'jobs.row_errors': 0, 'jobs.jobs': 1 });
  assert.ok(isStored('invoices/order-of-invoice-old.pdf'));
});
