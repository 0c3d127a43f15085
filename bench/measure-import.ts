/**
 * Measures a bulk catalogue import in the single process on a fresh embedded PostgreSQL:
 * `node bench/measure-import.ts [rows]` (default 100,000, about 10 MB). Generates the CSV in a
 * temporary folder, uploads it through the HTTP app as the admin, samples the job's progress while
 * it runs, and prints rows/second and the peak RSS of this process (app, workers and all) as JSON.
 * Numbers go in notes only with the command that produced them. The bench's `import` scenario
 * measures the same import through the edge, with PostgreSQL's COPY of the same rows beside it.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus } from 'node:os';
import path from 'node:path';
import { createSingleProcess, ensureDatabase } from '../src/apps/single-process.ts';
import { loadConfig } from '../src/platform/config/config.ts';
import { startEmbeddedPostgres } from '../src/platform/database/embedded-postgres.ts';
import { createLogger } from '../src/platform/logging/logger.ts';
import { writeImportFile } from './import-file.ts';

const rows = Number(process.argv[2] ?? 100_000);
const logger = createLogger({ level: 'warn' });
const dataDir = await mkdtemp(path.join('/var/tmp', 'orderstream-measure-import-'));
await chmod(dataDir, 0o755); // as root, the embedded server runs as `postgres` and must reach its folder

const server = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'postgres'), logger });
try {
  const csvFile = path.join(dataDir, 'products.csv');
  const bytes = await writeImportFile(csvFile, rows);
  const databaseUrl = await ensureDatabase(server.url, 'orderstream');
  const config = loadConfig({
    LOG_LEVEL: 'warn', DEV_IDENTITY_HEADERS: 'true', RATE_LIMIT_BURST: '1000000', DOCUMENTS_DIR: path.join(dataDir, 'documents'),
    EMAIL_OUTBOX_DIR: path.join(dataDir, 'mail'), IMPORT_MAX_BYTES: String(Math.max(bytes * 2, 1024 * 1024)),
  });
  const orderstream = await createSingleProcess({ config, logger, databaseUrl, keyEncryptionKey: randomBytes(32).toString('base64') });
  await orderstream.start();
  const admin = { 'x-dev-customer-id': 'measure-admin', 'x-dev-roles': 'admin' };
  const boundary = `----measure${randomBytes(8).toString('hex')}`;
  // inject() needs the body in memory; the measured process is the one receiving and importing it.
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="products.csv"\r\nContent-Type: text/csv\r\n\r\n`),
    await readFile(csvFile),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const startedAt = performance.now();
  const uploaded = await orderstream.app.inject({
    method: 'POST', url: '/v1/imports', payload: body, headers: { ...admin, 'content-type': `multipart/form-data; boundary=${boundary}` },
  });
  if (uploaded.statusCode !== 202) throw new Error(`upload failed: ${uploaded.statusCode} ${uploaded.body}`);
  const acceptedMs = Math.round(performance.now() - startedAt);
  const { id } = uploaded.json<{ id: string }>();
  const samples: { seconds: number; done: number; total: number | null; rssMb: number }[] = [];
  let job: { status: string; progress: { done: number; total: number | null }; counts: Record<string, number>; attempts: number };
  let lastSample = -Infinity;
  for (;;) {
    job = (await orderstream.app.inject({ method: 'GET', url: `/v1/jobs/${id}`, headers: admin })).json();
    const seconds = (performance.now() - startedAt) / 1000;
    if (seconds - lastSample >= 5) {
      samples.push({ seconds: Math.round(seconds), done: job.progress.done, total: job.progress.total, rssMb: Math.round(process.memoryUsage.rss() / 1024 / 1024) });
      lastSample = seconds;
    }
    if (['succeeded', 'failed', 'cancelled'].includes(job.status)) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const seconds = (performance.now() - startedAt) / 1000;
  console.log(JSON.stringify({
    machine: { cores: cpus().length, node: process.version },
    file: { rows, megabytes: Math.round((bytes / 1024 / 1024) * 10) / 10 },
    job: { status: job.status, counts: job.counts, attempts: job.attempts, acceptedMs },
    import: { seconds: Math.round(seconds * 10) / 10, rowsPerSecond: Math.round(rows / seconds) },
    // maxRSS is in kilobytes; it includes the upload buffer this script builds for inject().
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    progressSamples: samples,
  }, null, 2));
  await orderstream.close();
} finally {
  await server.stop();
  await rm(dataDir, { recursive: true, force: true });
}
