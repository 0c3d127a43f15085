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
import { eventually } from './harness/fulfilment-harness.ts';

/*
 * An import in the services shape: the jobs service writes each chunk to the catalog and inventory
 * services over their internal HTTP routes, one request each per chunk, each service on a database
 * of its own.
 */

const secret = randomBytes(32).toString('base64');
const admin: Principal = { id: 'admin-1', email: 'admin@example.com', roles: ['customer', 'admin'] };
const databases: { url: string; drop: () => Promise<void> }[] = [];
const processes: ServicesProcess[] = [];
let jobs: ServicesProcess;
let catalog: ServicesProcess;
let documentsDir: string;

before(async () => {
  const [catalogDatabase, inventoryDatabase, jobsDatabase] = await Promise.all([
    createTestDatabase(embeddedServerUrl(), []), createTestDatabase(embeddedServerUrl(), []), createTestDatabase(embeddedServerUrl(), []),
  ]);
  databases.push(catalogDatabase, inventoryDatabase, jobsDatabase);
  documentsDir = await mkdtemp(path.join(tmpdir(), 'orderstream-services-import-'));
  const settings = {
    LOG_LEVEL: 'silent', GATEWAY_SECRET: secret, OUTBOX_POLL_INTERVAL_MS: '100', MESSAGE_RETRY_BASE_MS: '20', DOCUMENTS_DIR: documentsDir,
    CATALOG_DATABASE_URL: catalogDatabase.url, INVENTORY_DATABASE_URL: inventoryDatabase.url, JOBS_DATABASE_URL: jobsDatabase.url,
  };
  const transport = new InProcessTransport();
  const logger = createLogger({ level: 'silent' });
  const keyEncryptionKey = randomBytes(32).toString('base64');
  catalog = await createServices({ config: loadConfig(settings), logger, roles: ['catalog'], keyEncryptionKey, transport });
  const inventory = await createServices({ config: loadConfig(settings), logger, roles: ['inventory'], keyEncryptionKey, transport });
  processes.push(catalog, inventory);
  const catalogUrl = await catalog.app.listen({ host: '127.0.0.1', port: 0 });
  const inventoryUrl = await inventory.app.listen({ host: '127.0.0.1', port: 0 });
  jobs = await createServices({
    // Orders is named but never called: nothing here exports.
    config: loadConfig({ ...settings, CATALOG_SERVICE_URL: catalogUrl, INVENTORY_SERVICE_URL: inventoryUrl, ORDERS_SERVICE_URL: 'http://127.0.0.1:1' }), logger, roles: ['jobs'], keyEncryptionKey, transport,
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
