/**
 * Measures what the edge costs on `GET /v1/products/{id}`, in one run on a fresh embedded
 * PostgreSQL: `node scripts/measure-edge.ts [seconds] [connections]`. Three targets, each after a
 * 2 s warm-up, with the same load: (a) the catalog module's routes alone (createHttpApp, no edge),
 * (b) the whole single process through the edge with a customer's JWT, (c) a bare node:http server
 * answering a body of the same size, as a ceiling. Prints req/s, p99 and ratios as JSON.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { createSingleProcess, ensureDatabase } from '../src/apps/single-process.ts';
import { createCatalogModule } from '../src/modules/catalog/index.ts';
import { loadConfig } from '../src/platform/config/config.ts';
import { createDatabase } from '../src/platform/database/database.ts';
import { startEmbeddedPostgres } from '../src/platform/database/embedded-postgres.ts';
import { createHttpApp } from '../src/platform/http/app.ts';
import { createLogger } from '../src/platform/logging/logger.ts';

const seconds = Number(process.argv[2] ?? 10);
const connections = Number(process.argv[3] ?? 16);
const logger = createLogger({ level: 'warn' });
const quiet = createLogger({ level: 'silent' });
const dataDir = await mkdtemp(path.join('/var/tmp', 'orderstream-measure-edge-'));
await chmod(dataDir, 0o755); // as root, the embedded server runs as `postgres` and must reach its folder
const server = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'postgres'), logger });

const listening = async (listen: () => Promise<unknown>, address: () => AddressInfo | string | null) => {
  await listen();
  return `http://127.0.0.1:${(address() as AddressInfo).port}`;
};

async function load(baseUrl: string, ids: readonly string[], headers: Record<string, string>): Promise<{ requestsPerSecond: number; p99Ms: number; non2xx: number }> {
  let sequence = 0;
  const options = (duration: number) => ({
    url: baseUrl, connections, duration,
    requests: [{ method: 'GET' as const, headers, setupRequest: (request: { path?: string }) => { sequence += 1; return { ...request, path: `/v1/products/${ids[sequence % ids.length] ?? ''}` }; } }],
  });
  await autocannon(options(2));
  const result = await autocannon(options(seconds));
  return { requestsPerSecond: Math.round(result.requests.average), p99Ms: result.latency.p99, non2xx: result.non2xx + result.errors + result.timeouts };
}

try {
  const databaseUrl = await ensureDatabase(server.url, 'orderstream');
  const config = loadConfig({
    LOG_LEVEL: 'warn', DEV_IDENTITY_HEADERS: 'false', RATE_LIMIT_BURST: '1000000', RATE_LIMIT_PER_SECOND: '1000000', DATABASE_POOL_SIZE: '20',
    DOCUMENTS_DIR: path.join(dataDir, 'documents'), EMAIL_OUTBOX_DIR: path.join(dataDir, 'mail'),
  });
  const orderstream = await createSingleProcess({ config, logger: quiet, databaseUrl, keyEncryptionKey: randomBytes(32).toString('base64') });
  const { admin, customer } = await orderstream.identity.seedDemoUsers();
  const signIn = async (email: string, password: string) => (await orderstream.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password } })).json<{ accessToken: string }>().accessToken;
  const asAdmin = { authorization: `Bearer ${await signIn(admin.email, admin.password)}` };
  const ids: string[] = [];
  for (let index = 0; index < 100; index += 1) {
    const created = await orderstream.app.inject({ method: 'POST', url: '/v1/products', headers: asAdmin, payload: { sku: `MEASURE-${index}`, name: `Product ${index}`, price: { amount: 100 + index, currency: 'EUR' } } });
    ids.push(created.json<{ id: string }>().id);
  }
  const customerToken = await signIn(customer.email, customer.password);
  const body = (await orderstream.app.inject({ method: 'GET', url: `/v1/products/${ids[0] ?? ''}`, headers: { authorization: `Bearer ${customerToken}` } })).body;

  // (a) the catalog module alone: its routes on an app without the edge, its own pool of the same size
  const moduleDb = createDatabase({ url: databaseUrl, poolSize: config.DATABASE_POOL_SIZE });
  const moduleApp = createHttpApp({ logger: quiet, bodyLimit: config.BODY_LIMIT_BYTES, routes: [createCatalogModule({ db: moduleDb }).routes], readiness: [] });
  const moduleUrl = await listening(() => moduleApp.listen({ host: '127.0.0.1', port: 0 }), () => moduleApp.server.address());
  const direct = await load(moduleUrl, ids, {});
  await moduleApp.close();
  await moduleDb.destroy();

  // (b) the whole single process, through the edge, with a customer's bearer token
  const edgeUrl = await listening(() => orderstream.app.listen({ host: '127.0.0.1', port: 0 }), () => orderstream.app.server.address());
  const throughEdge = await load(edgeUrl, ids, { authorization: `Bearer ${customerToken}` });
  await orderstream.close();

  // (c) the ceiling: node:http answering a body of the same size, no framework, no database
  const bare: Server = createServer((_request, response) => { response.writeHead(200, { 'content-type': 'application/json' }).end(body); });
  const bareUrl = await listening(() => new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve)), () => bare.address());
  const ceiling = await load(bareUrl, ids, {});
  bare.closeAllConnections();
  await new Promise((resolve) => bare.close(resolve));

  console.log(JSON.stringify({
    machine: { cores: cpus().length, node: process.version },
    load: { seconds, warmUpSeconds: 2, connections, products: ids.length, bodyBytes: Buffer.byteLength(body) },
    moduleDirect: direct, throughEdgeWithJwt: throughEdge, bareNodeHttp: ceiling,
    ratios: {
      edgeOverModuleRequests: Math.round((throughEdge.requestsPerSecond / direct.requestsPerSecond) * 100) / 100,
      edgeOverModuleP99: Math.round((throughEdge.p99Ms / Math.max(1, direct.p99Ms)) * 100) / 100,
      moduleOverBareRequests: Math.round((direct.requestsPerSecond / ceiling.requestsPerSecond) * 100) / 100,
      edgeOverBareRequests: Math.round((throughEdge.requestsPerSecond / ceiling.requestsPerSecond) * 100) / 100,
    },
  }, null, 2));
} finally {
  await server.stop();
  await rm(dataDir, { recursive: true, force: true });
}
