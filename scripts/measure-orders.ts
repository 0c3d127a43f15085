/**
 * Measures order throughput of the single process on a fresh embedded PostgreSQL:
 * `node scripts/measure-orders.ts [seconds] [connections]`. Places orders with autocannon through
 * real HTTP (unique Idempotency-Key each), then waits for every saga to finish and reports accepted
 * orders/s, POST latency, and saga completions/s measured from the database. A starting point for
 * `npm run bench`; numbers go in notes only with the command that produced them.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { sql } from 'kysely';
import { createSingleProcess, ensureDatabase } from '../src/apps/single-process.ts';
import { loadConfig } from '../src/platform/config/config.ts';
import { startEmbeddedPostgres } from '../src/platform/database/embedded-postgres.ts';
import { createLogger } from '../src/platform/logging/logger.ts';

const seconds = Number(process.argv[2] ?? 15);
const connections = Number(process.argv[3] ?? 16);
const logger = createLogger({ level: 'warn' });
const dataDir = await mkdtemp(path.join('/var/tmp', 'orderstream-measure-'));
await chmod(dataDir, 0o755); // as root, the embedded server runs as `postgres` and must reach its folder
const server = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'postgres'), logger });
try {
  const databaseUrl = await ensureDatabase(server.url, 'orderstream');
  const config = loadConfig({ LOG_LEVEL: 'warn', DEV_IDENTITY_HEADERS: 'true', RATE_LIMIT_BURST: '1000000', DOCUMENTS_DIR: path.join(dataDir, 'documents'), OUTBOX_POLL_INTERVAL_MS: process.env.OUTBOX_POLL_INTERVAL_MS ?? '1000', DATABASE_POOL_SIZE: '20', EMAIL_OUTBOX_DIR: path.join(dataDir, 'mail') });
  const orderstream = await createSingleProcess({ config, logger, databaseUrl, keyEncryptionKey: randomBytes(32).toString('base64') });
  await orderstream.start();
  await orderstream.app.listen({ host: '127.0.0.1', port: 0 });
  const baseUrl = `http://127.0.0.1:${(orderstream.app.server.address() as AddressInfo).port}`;
  const admin = { 'x-dev-customer-id': 'bench-admin', 'x-dev-roles': 'admin' };
  const skus = ['BENCH-A', 'BENCH-B', 'BENCH-C', 'BENCH-D'];
  for (const sku of skus) {
    await orderstream.app.inject({ method: 'POST', url: '/v1/products', headers: admin, payload: { sku, name: sku, price: { amount: 500, currency: 'EUR' } } });
    await orderstream.app.inject({ method: 'PUT', url: `/v1/inventory/${sku}`, headers: admin, payload: { onHand: 100_000_000 } });
  }
  const databaseStats = async () => (await sql<{ commits: number; statements: number }>`
    select xact_commit::int as commits, (tup_inserted + tup_updated + tup_deleted)::int as statements
    from pg_stat_database where datname = current_database()`.execute(orderstream.db)).rows[0] ?? { commits: 0, statements: 0 };
  const before = await databaseStats();
  let sequence = 0;
  const startedAt = Date.now();
  const result = await autocannon({
    url: `${baseUrl}/v1/orders`,
    connections,
    duration: seconds,
    requests: [{
      method: 'POST',
      setupRequest: (request) => {
        sequence += 1;
        const lines = skus.slice(0, 1 + (sequence % 3)).map((sku) => ({ sku, quantity: 1 }));
        return {
          ...request,
          headers: { 'content-type': 'application/json', 'x-dev-customer-id': `bench-${sequence % 500}`, 'idempotency-key': `bench-${sequence}` },
          body: JSON.stringify({ items: lines, payment: { token: 'tok_visa' } }),
        };
      },
    }],
  });
  const postedUntil = Date.now();
  let counts: { total: number; terminal: number; confirmed: number; last: Date | null } = { total: 0, terminal: 0, confirmed: 0, last: null };
  for (;;) {
    const row = (await sql<{ total: number; terminal: number; confirmed: number; last: Date | null }>`
      select count(*)::int as total,
             count(*) filter (where status in ('CONFIRMED', 'CANCELLED'))::int as terminal,
             count(*) filter (where status = 'CONFIRMED')::int as confirmed,
             max(updated_at) filter (where status in ('CONFIRMED', 'CANCELLED')) as last
      from orders.orders`.execute(orderstream.db)).rows[0];
    if (row !== undefined) counts = row;
    if (counts.terminal === counts.total || Date.now() - postedUntil > 120_000) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await new Promise((resolve) => setTimeout(resolve, 1000)); // statistics are reported with a short delay
  const after = await databaseStats();
  const sagaSeconds = ((counts.last?.getTime() ?? Date.now()) - startedAt) / 1000;
  const non2xx = result.non2xx + result.errors + result.timeouts;
  console.log(JSON.stringify({
    machine: { cores: cpus().length, node: process.version },
    load: { seconds, connections },
    post: { accepted: counts.total, perSecond: Math.round(counts.total / ((postedUntil - startedAt) / 1000)), p50Ms: result.latency.p50, p99Ms: result.latency.p99, non2xxOrErrors: non2xx },
    database: { commitsPerOrder: Math.round(((after.commits - before.commits) / Math.max(1, counts.total)) * 10) / 10, rowsWrittenPerOrder: Math.round(((after.statements - before.statements) / Math.max(1, counts.total)) * 10) / 10 },
    saga: { confirmed: counts.confirmed, terminal: counts.terminal, completionsPerSecond: Math.round(counts.confirmed / sagaSeconds), drainSeconds: Math.round((sagaSeconds - (postedUntil - startedAt) / 1000) * 10) / 10 },
  }, null, 2));
  await orderstream.close();
} finally {
  await server.stop();
  await rm(dataDir, { recursive: true, force: true });
}
