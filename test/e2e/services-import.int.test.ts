import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { loadConfig } from '../../src/platform/config/config.ts';
import { signPrincipal, streamedBody } from '../../src/platform/http/gateway-signature.ts';
import type { Principal } from '../../src/platform/http/principal.ts';
import { createLogger } from '../../src/platform/logging/logger.ts';
import { InProcessTransport } from '../../src/platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../src/platform/testing/test-database.ts';
import { csvUpload } from '../../src/modules/jobs/testing/multipart.ts';
import { createServices, type ServicesProcess } from '../../src/apps/services.ts';
import { insertExportableOrders } from './harness/exportable-orders.ts';
import { eventually } from './harness/fulfilment-harness.ts';

/*
 * Document jobs in the services shape, each service on a database of its own: an import, whose jobs
 * service writes each chunk to the catalog and inventory services over their internal HTTP routes,
 * one request each per chunk; and an order export, whose jobs service reads the orders service's
 * pages over its internal route.
 */

const secret = randomBytes(32).toString('base64');
const admin: Principal = { id: 'admin-1', email: 'admin@example.com', roles: ['customer', 'admin'] };
const databases: { url: string; drop: () => Promise<void> }[] = [];
const processes: ServicesProcess[] = [];
let jobs: ServicesProcess;
let catalog: ServicesProcess;
let orders: ServicesProcess;
let documentsDir: string;

before(async () => {
  const [catalogDatabase, inventoryDatabase, jobsDatabase, ordersDatabase] = await Promise.all([
    createTestDatabase(embeddedServerUrl(), []), createTestDatabase(embeddedServerUrl(), []), createTestDatabase(embeddedServerUrl(), []), createTestDatabase(embeddedServerUrl(), []),
  ]);
  databases.push(catalogDatabase, inventoryDatabase, jobsDatabase, ordersDatabase);
  documentsDir = await mkdtemp(path.join(tmpdir(), 'orderstream-services-import-'));
  const settings = {
    LOG_LEVEL: 'silent', GATEWAY_SECRET: secret, OUTBOX_POLL_INTERVAL_MS: '100', MESSAGE_RETRY_BASE_MS: '20', DOCUMENTS_DIR: documentsDir,
    CATALOG_DATABASE_URL: catalogDatabase.url, INVENTORY_DATABASE_URL: inventoryDatabase.url, JOBS_DATABASE_URL: jobsDatabase.url,
    ORDERS_DATABASE_URL: ordersDatabase.url, EXPORT_PART_SIZE: '100',
  };
  const transport = new InProcessTransport();
  const logger = createLogger({ level: 'silent' });
  const keyEncryptionKey = randomBytes(32).toString('base64');
  catalog = await createServices({ config: loadConfig(settings), logger, roles: ['catalog'], keyEncryptionKey, transport });
  const inventory = await createServices({ config: loadConfig(settings), logger, roles: ['inventory'], keyEncryptionKey, transport });
  processes.push(catalog, inventory);
  const catalogUrl = await catalog.app.listen({ host: '127.0.0.1', port: 0 });
  const inventoryUrl = await inventory.app.listen({ host: '127.0.0.1', port: 0 });
  orders = await createServices({ config: loadConfig({ ...settings, CATALOG_SERVICE_URL: catalogUrl }), logger, roles: ['orders'], keyEncryptionKey, transport });
  processes.push(orders);
  const ordersUrl = await orders.app.listen({ host: '127.0.0.1', port: 0 });
  jobs = await createServices({
    config: loadConfig({ ...settings, CATALOG_SERVICE_URL: catalogUrl, INVENTORY_SERVICE_URL: inventoryUrl, ORDERS_SERVICE_URL: ordersUrl }), logger, roles: ['jobs'], keyEncryptionKey, transport,
  });
  processes.push(jobs);
  await Promise.all(processes.map((process) => process.start()));
});
after(async () => {
  await Promise.all(processes.map((process) => process.close()));
  await Promise.all(databases.map((database) => database.drop()));
  await rm(documentsDir, { recursive: true, force: true });
});

test('when a file of several chunks with a bad row is imported by the jobs service, then the catalog and inventory services get every good row and the counts are exact', async () => {
  const lines = Array.from({ length: 4500 }, (_, index) => `SVC-${String(index + 1)},Product ${String(index + 1)},,${String(100 + index)},EUR,${String(index % 50)}`);
  lines[2100] = 'SVC-2101,,,-1,EUR,1'; // line 2102: no name, a negative price
  const upload = csvUpload(`sku,name,description,price,currency,stock\n${lines.join('\n')}\n`);
  const requestId = randomUUID();
  // The gateway streams an upload through, so it signs its length, not its digest.
  const signed = signPrincipal({
    principal: admin, requestId, clientAddress: '127.0.0.1', secret, method: 'POST', path: '/v1/imports', body: streamedBody, contentLength: upload.payload.length,
  });
  const accepted = await jobs.app.inject({ method: 'POST', url: '/v1/imports', payload: upload.payload, headers: { ...signed, 'x-request-id': requestId, ...upload.headers } });
  assert.equal(accepted.statusCode, 202, accepted.body);
  const id = accepted.json<{ id: string }>().id;

  const jobsDatabase = jobs.databases.get('jobs');
  assert.ok(jobsDatabase);
  await eventually(async () => (await sql<{ status: string }>`select status from jobs.jobs where id = ${id}`.execute(jobsDatabase)).rows[0]?.status === 'succeeded', 'the import to succeed', 60_000);
  const job = (await sql<{ created_count: number; updated_count: number; rejected_count: number; checkpoint: number }>`
    select created_count, updated_count, rejected_count, checkpoint from jobs.jobs where id = ${id}`.execute(jobsDatabase)).rows[0];
  assert.deepEqual(job, { created_count: 4499, updated_count: 0, rejected_count: 1, checkpoint: 4500 });
  const errors = await sql<{ line: number }>`select line from jobs.row_errors where job_id = ${id}`.execute(jobsDatabase);
  assert.deepEqual(errors.rows, [{ line: 2102 }]);

  const catalogDatabase = catalog.databases.get('catalog');
  assert.ok(catalogDatabase);
  const products = await sql<{ count: number }>`select count(*)::int as count from catalog.products where sku like 'SVC-%'`.execute(catalogDatabase);
  assert.equal(products.rows[0]?.count, 4499);
  const batches = await sql<{ key: string }>`select key from catalog.applied_batches order by key`.execute(catalogDatabase);
  assert.deepEqual(batches.rows.map((row) => row.key), [`${id}:1-2000`, `${id}:2001-4000`, `${id}:4001-4500`], 'one request per chunk');
});

/** A request to the jobs service as the gateway signs it for the admin. */
async function asAdmin(method: 'GET' | 'POST', url: string, json?: unknown): Promise<{ statusCode: number; body: string }> {
  const requestId = randomUUID();
  const payload = json === undefined ? undefined : Buffer.from(JSON.stringify(json));
  const signed = signPrincipal({ principal: admin, requestId, clientAddress: '127.0.0.1', secret, method, path: url, body: payload });
  const headers = { ...signed, 'x-request-id': requestId, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) };
  return jobs.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload }) });
}

test('when the jobs service exports orders, then it reads them from the orders service page by page and the file holds each matching order once, newest first', async () => {
  const ordersDatabase = orders.databases.get('orders');
  assert.ok(ordersDatabase);
  // 70 µs apart, so the pages of 100 end inside milliseconds; order g is CANCELLED when g is a multiple of 5.
  await insertExportableOrders(ordersDatabase, { count: 1000, prefix: 'ord_svc_', start: new Date('2026-04-01T00:00:00Z'), stepMicroseconds: 70 });
  const accepted = await asAdmin('POST', '/v1/exports/orders', { format: 'csv', status: 'CONFIRMED' });
  assert.equal(accepted.statusCode, 202, accepted.body);
  const { id, fileUrl } = JSON.parse(accepted.body) as { id: string; fileUrl: string };
  await eventually(async () => (JSON.parse((await asAdmin('GET', `/v1/jobs/${id}`)).body) as { status: string }).status === 'succeeded', 'the export to succeed', 60_000);
  const job = JSON.parse((await asAdmin('GET', `/v1/jobs/${id}`)).body) as { progress: { done: number; total: number | null } };
  assert.deepEqual(job.progress, { done: 800, total: 800 });

  const file = await asAdmin('GET', fileUrl);
  assert.equal(file.statusCode, 200, file.body.slice(0, 300));
  const ids = file.body.split('\r\n').slice(1, -1).map((line) => line.split(',')[0]);
  const expected = Array.from({ length: 1000 }, (_, index) => 1000 - index).filter((g) => g % 5 !== 0).map((g) => `ord_svc_${String(g).padStart(6, '0')}`);
  assert.deepEqual(ids, expected);
  const jobsDatabase = jobs.databases.get('jobs');
  assert.ok(jobsDatabase);
  const parts = await sql<{ count: number }>`select count(*)::int as count from jobs.export_parts where job_id = ${id}`.execute(jobsDatabase);
  assert.deepEqual(parts.rows, [{ count: 8 }], 'one page of 100 orders per part');
});
