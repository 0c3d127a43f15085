import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { loadConfig } from '../../src/platform/config/config.ts';
import { createLogger } from '../../src/platform/logging/logger.ts';
import { createTestDatabase, embeddedServerUrl } from '../../src/platform/testing/test-database.ts';
import { csvUpload } from '../../src/modules/jobs/testing/multipart.ts';
import { createSingleProcess, type SingleProcess } from '../../src/apps/single-process.ts';
import { insertExportableOrders } from './harness/exportable-orders.ts';
import { adminHeaders, eventually } from './harness/fulfilment-harness.ts';

const projectRoot = path.resolve(import.meta.dirname, '..', '..');
const cliEntry = path.join(projectRoot, 'src', 'cli.ts');
// Each row is two short transactions (catalog, inventory) with their outbox events: about 250 rows/s
// on a 2-core machine alone, under 100 while the whole suite runs. Large enough to kill mid-file with
// many checkpoints (every 500 rows) on both sides of the kill, small enough for about 30 s alone.
const rowCount = 5_000;
const skuPrefix = `CRASH-${randomBytes(3).toString('hex').toUpperCase()}-`;
const keyEncryptionKey = randomBytes(32).toString('base64');

interface GeneratedRow { sku: string; name: string; description: string; amount: number; currency: string; stock: number }

/** Row `index` (1-based) of the file: every field depends on the index, so a row applied twice or skipped shows. */
function rowAt(index: number): GeneratedRow {
  return {
    sku: `${skuPrefix}${String(index).padStart(6, '0')}`,
    name: `Crash test product ${index}`,
    description: index % 7 === 0 ? '' : `Batch ${Math.floor(index / 500)}, item ${index}`,
    amount: 100 + ((index * 37) % 10_000),
    currency: index % 3 === 0 ? 'USD' : 'EUR',
    stock: (index * 13) % 1000,
  };
}

const rows = Array.from({ length: rowCount }, (_, offset) => rowAt(offset + 1));
const csv = 'sku,name,description,price,currency,stock\n'
  + rows.map((row) => `${row.sku},${row.name},"${row.description}",${row.amount},${row.currency},${row.stock}\n`).join('');

/** The whole catalogue a clean import of the file leaves behind, one line per product in SKU order, hashed. */
function digestOf(lines: readonly string[]): string {
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}
const cleanImportDigest = digestOf(rows.map((row) => [row.sku, row.name, row.description, row.amount, row.currency, row.stock].join('|')).sort());

let databaseUrl: string;
let dropDatabase: () => Promise<void>;
let documentsDir: string;
let api: SingleProcess;
const workers = new Set<ChildProcess>();

const workerEnvironment = (): NodeJS.ProcessEnv => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !['HOST', 'PORT', 'EMBEDDED_POSTGRES_DIR', 'EMBEDDED_POSTGRES_PORT'].includes(name))),
  DATABASE_URL: databaseUrl,
  DOCUMENTS_DIR: documentsDir,
  IDENTITY_KEY_ENCRYPTION_KEY: keyEncryptionKey,
  JOB_RETRY_DELAY_SECONDS: '1',
  JOB_MAX_ATTEMPTS: '5',
  // Exports in small parts: many parts recorded on both sides of a kill.
  EXPORT_PART_SIZE: '100',
  LOG_LEVEL: 'info',
  // Workers run side by side with other tests' processes: each takes a free operations port.
  OPS_PORT: '0',
});

/** `orderstream start --role worker` as a child process; resolves once it says it runs. */
async function startWorker(): Promise<ChildProcess> {
  const child = spawn(process.execPath, [cliEntry, 'start', '--role', 'worker'], { cwd: projectRoot, env: workerEnvironment(), stdio: ['ignore', 'pipe', 'pipe'] });
  workers.add(child);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString('utf8'); });
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString('utf8'); });
  await eventually(() => {
    if (child.exitCode !== null) throw new Error(`the worker exited (${child.exitCode}):\n${output}`);
    return output.includes('OrderStream worker is running');
  }, 'the worker to start', 30_000);
  return child;
}

async function kill(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
  workers.delete(child);
}

interface JobBody { id: string; status: string; progress: { done: number; total: number | null }; counts: { created: number; updated: number; rejected: number }; attempts: number }

async function jobOf(id: string): Promise<JobBody> {
  const response = await api.app.inject({ method: 'GET', url: `/v1/jobs/${id}`, headers: adminHeaders });
  assert.equal(response.statusCode, 200, response.body);
  return response.json<JobBody>();
}

before(async () => {
  const database = await createTestDatabase(embeddedServerUrl(), []);
  databaseUrl = database.url;
  dropDatabase = database.drop;
  await database.db.destroy();
  documentsDir = await mkdtemp(path.join(tmpdir(), 'orderstream-crash-documents-'));
  const config = loadConfig({
    LOG_LEVEL: 'silent', DEV_IDENTITY_HEADERS: 'true', RATE_LIMIT_BURST: '1000000', DOCUMENTS_DIR: documentsDir, JOB_RETRY_DELAY_SECONDS: '1', JOB_MAX_ATTEMPTS: '5',
  });
  api = await createSingleProcess({ config, logger: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), role: 'api', databaseUrl, keyEncryptionKey });
  await api.start();
});

after(async () => {
  for (const child of workers) await kill(child, 'SIGKILL');
  await api.close();
  await dropDatabase();
  await rm(documentsDir, { recursive: true, force: true });
});

test('when the worker process is killed (kill -9) halfway through a large import and started again, then the catalogue equals a clean import of the file', { timeout: 180_000 }, async () => {
  let worker = await startWorker();
  const { payload, headers } = csvUpload(csv);
  const uploaded = await api.app.inject({ method: 'POST', url: '/v1/imports', payload, headers: { ...adminHeaders, ...headers } });
  assert.equal(uploaded.statusCode, 202, uploaded.body);
  const { id } = uploaded.json<{ id: string }>();

  const { atKill, killed } = await killHalfway(worker, id, 'import');
  assert.ok(killed.progress.done < rowCount, `killed at ${killed.progress.done} of ${rowCount} rows`);

  worker = await startWorker();
  const final = await succeeded(id, 'jobs.catalog-import');
  await kill(worker, 'SIGTERM');

  assert.deepEqual(final.progress, { done: rowCount, total: rowCount });
  assert.equal(final.counts.rejected, 0);
  assert.equal(final.counts.created + final.counts.updated, rowCount, 'every row counted once');
  // A chunk commits with its checkpoint and counts: the one in flight at the kill left nothing, and is applied once on resume.
  assert.deepEqual(final.counts, { created: rowCount, updated: 0, rejected: 0 }, 'the counts of a clean import: every product is new');
  assert.ok(final.attempts >= 2, `attempts: ${final.attempts}`);

  const catalogue = await sql<{ sku: string; name: string; description: string; amount: string; currency: string; on_hand: string | null }>`
    select p.sku, p.name, p.description, p.price_amount::text as amount, p.price_currency as currency, s.on_hand::text as on_hand
    from catalog.products p left join inventory.stock_items s on s.sku = p.sku
    where p.sku like ${`${skuPrefix}%`} order by p.sku collate "C"`.execute(api.db);
  assert.equal(catalogue.rows.length, rowCount, 'one product per row of the file');
  assert.equal(new Set(catalogue.rows.map((row) => row.sku)).size, rowCount);
  for (const index of [1, 2, atKill.progress.done, atKill.progress.done + 1, 2_500, 4_001, rowCount]) {
    const expected = rowAt(index);
    const actual = catalogue.rows[index - 1];
    assert.deepEqual(actual, {
      sku: expected.sku, name: expected.name, description: expected.description, amount: String(expected.amount), currency: expected.currency, on_hand: String(expected.stock),
    }, `row ${index}`);
  }
  const digest = digestOf(catalogue.rows.map((row) => [row.sku, row.name, row.description, row.amount, row.currency, row.on_hand].join('|')));
  assert.equal(digest, cleanImportDigest, 'every product, price and stock level equals what a clean import of the file makes');
});

/**
 * Kills the worker (SIGKILL) once the job is between 10% and 90% done; answers the job as last seen
 * before the kill and as the kill left it: still running, its lease not yet run out.
 */
async function killHalfway(worker: ChildProcess, id: string, what: string): Promise<{ atKill: JobBody; killed: JobBody }> {
  let atKill: JobBody | undefined;
  await eventually(async () => {
    const job = await jobOf(id);
    assert.notEqual(job.status, 'succeeded', `the ${what} finished before the worker could be killed halfway`);
    if (job.progress.total !== null && job.progress.done >= job.progress.total * 0.1 && job.progress.done <= job.progress.total * 0.9) atKill = job;
    return atKill !== undefined;
  }, 'progress between 10% and 90%', 30_000);
  await kill(worker, 'SIGKILL');
  const killed = await jobOf(id);
  assert.equal(killed.status, 'running', 'a killed attempt leaves the job running until its lease runs out');
  assert.ok(atKill !== undefined);
  return { atKill, killed };
}

/** Waits until the job has succeeded (a failed one fails the test at once), with pg-boss's view of it on a timeout. */
async function succeeded(id: string, queue: string): Promise<JobBody> {
  let final: JobBody | undefined;
  let last: JobBody | undefined;
  await eventually(async () => {
    last = await jobOf(id);
    assert.notEqual(last.status, 'failed', JSON.stringify(last));
    if (last.status === 'succeeded') final = last;
    return final !== undefined;
  }, `job ${id} to succeed`, 90_000).catch(async (error: unknown) => {
    const boss = await sql`select state, retry_count, started_on, heartbeat_on, heartbeat_seconds from pgboss.job where name = ${queue}`.execute(api.db);
    throw new Error(`${(error as Error).message}; job ${JSON.stringify(last)}; pg-boss ${JSON.stringify(boss.rows)}`);
  });
  assert.ok(final !== undefined);
  return final;
}

async function exportFile(id: string): Promise<string> {
  const response = await api.app.inject({ method: 'GET', url: `/v1/jobs/${id}/file`, headers: adminHeaders });
  assert.equal(response.statusCode, 200, response.body.slice(0, 500));
  return response.body;
}

test('when the worker process is killed (kill -9) halfway through an order export and started again, then the file is byte for byte that of an export without the kill', { timeout: 180_000 }, async () => {
  const orderCount = 30_000;
  // 70 µs apart: about fourteen orders a millisecond, so parts end inside milliseconds.
  await insertExportableOrders(api.db, { count: orderCount, prefix: 'ord_crash_', start: new Date('2026-02-01T00:00:00Z'), stepMicroseconds: 70 });
  let worker = await startWorker();
  const requested = await api.app.inject({ method: 'POST', url: '/v1/exports/orders', payload: { format: 'csv', sku: 'EXP-1' }, headers: adminHeaders });
  assert.equal(requested.statusCode, 202, requested.body);
  const { id } = requested.json<{ id: string }>();
  const expected = Math.ceil((orderCount - 1) / 3); // the orders whose index leaves 1 divided by 3

  const { killed } = await killHalfway(worker, id, 'export');
  assert.ok(killed.progress.done < expected, `killed at ${killed.progress.done} of ${expected} orders`);

  worker = await startWorker();
  const resumed = await succeeded(id, 'jobs.order-export');
  assert.deepEqual(resumed.progress, { done: expected, total: expected });
  assert.ok(resumed.attempts >= 2, `attempts: ${resumed.attempts}`);
  const afterCrash = await exportFile(id);

  // The same export again, with nothing killed: the orders have not changed, so neither may the file.
  const again = await api.app.inject({ method: 'POST', url: '/v1/exports/orders', payload: { format: 'csv', sku: 'EXP-1' }, headers: adminHeaders });
  assert.equal(again.statusCode, 202, again.body);
  const clean = await succeeded(again.json<{ id: string }>().id, 'jobs.order-export');
  assert.equal(clean.attempts, 1);
  await kill(worker, 'SIGTERM');
  const withoutCrash = await exportFile(clean.id);

  const records = afterCrash.split('\r\n').slice(1, -1);
  assert.equal(records.length, expected, 'one record per matching order');
  assert.equal(new Set(records.map((record) => record.split(',')[0])).size, expected, 'no order twice');
  assert.equal(createHash('sha256').update(afterCrash).digest('hex'), createHash('sha256').update(withoutCrash).digest('hex'), 'the resumed file is the clean one, byte for byte');
});
