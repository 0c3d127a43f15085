import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { sql } from 'kysely';
import { loadConfig, type Config } from '../../platform/config/config.ts';
import { createDatabase, type Database } from '../../platform/database/database.ts';
import { startEmbeddedPostgres, type EmbeddedPostgresServer } from '../../platform/database/embedded-postgres.ts';
import type { Logger } from '../../platform/logging/logger.ts';
import { createSingleProcess, ensureDatabase, type SingleProcess } from '../single-process.ts';
import { benchSku } from './catalogue.ts';
import { OrderObserver } from './order-observer.ts';
import { postmasterOf } from './resource-sampler.ts';

/** `application_name` of the harness's own connections, which statement captures leave out. */
export const observerApplication = 'orderstream-bench-observer';

/** A customer of the benchmark, signed in with a real access token. */
export interface BenchCustomer {
  id: string;
  email: string;
  token: string;
}

/** OrderStream in the single-process shape, listening on loopback, with a catalogue, stock and customers. */
export interface BenchTarget {
  baseUrl: string;
  databaseUrl: string;
  config: Config;
  orderstream: SingleProcess;
  observer: OrderObserver;
  productIds: string[];
  skus: string[];
  customers: BenchCustomer[];
  /** Orders placed during setup, one per customer, for own-order reads. */
  setupOrders: { orderId: string; token: string }[];
  /** The body of `GET /v1/products/{id}`, which the HTTP ceiling answers byte for byte. */
  productBody: string;
  postgres: { version: string; postmasterPid: number | undefined };
  /** Stops OrderStream (HTTP and background work) but keeps the database running. */
  closeApp(): Promise<void>;
  /** Stops everything and removes the temporary folder. */
  close(): Promise<void>;
}

/**
 * Starts OrderStream for a benchmark on a fresh database: a new embedded PostgreSQL in a temporary
 * folder under /var/tmp (or a new database on `databaseServerUrl`), rate limits out of the way,
 * development identity headers off (the JWT check at the edge is part of what is measured), and
 * `products` products with ample stock and `customers` customers registered and signed in through
 * the HTTP API.
 */
export async function startBenchTarget(options: {
  products: number;
  customers: number;
  logger: Logger;
  /** Use this PostgreSQL server (a new database on it) instead of starting one. */
  databaseServerUrl?: string;
  log?: (line: string) => void;
}): Promise<BenchTarget> {
  const { logger } = options;
  const log = options.log ?? (() => undefined);
  const workDir = await mkdtemp(path.join('/var/tmp', 'orderstream-bench-'));
  // As root, the embedded server runs as `postgres`, which must reach its folder.
  await chmod(workDir, 0o755);
  const cleanups: (() => Promise<void>)[] = [() => rm(workDir, { recursive: true, force: true })];
  // Once, in the reverse order of setup, however many callers (the run's end, a Ctrl-C) ask for it.
  let closing: Promise<void> | undefined;
  const cleanUp = () => (closing ??= (async () => {
    for (const cleanup of [...cleanups].reverse()) await cleanup().catch(() => undefined);
  })());
  try {
    let serverUrl = options.databaseServerUrl;
    let databaseName = 'orderstream';
    if (serverUrl === undefined) {
      log('starting a fresh embedded PostgreSQL');
      const server: EmbeddedPostgresServer = await startEmbeddedPostgres({ dataDir: path.join(workDir, 'postgres'), logger });
      cleanups.push(() => server.stop());
      serverUrl = server.url;
    } else {
      databaseName = `bench_${randomBytes(6).toString('hex')}`;
      const admin = createDatabase({ url: serverUrl, poolSize: 1 });
      cleanups.push(async () => {
        await sql.raw(`drop database if exists ${databaseName} with (force)`).execute(admin);
        await admin.destroy();
      });
    }
    const databaseUrl = await ensureDatabase(serverUrl, databaseName);
    const config = loadConfig({
      LOG_LEVEL: 'warn',
      DEV_IDENTITY_HEADERS: 'false',
      RATE_LIMIT_BURST: '1000000', RATE_LIMIT_PER_SECOND: '1000000',
      AUTH_RATE_LIMIT_BURST: '1000', AUTH_RATE_LIMIT_PER_SECOND: '1000',
      ACCESS_TOKEN_TTL_SECONDS: '7200',
      DOCUMENTS_DIR: path.join(workDir, 'documents'),
      EMAIL_OUTBOX_DIR: path.join(workDir, 'mail'),
    });
    const orderstream = await createSingleProcess({ config, logger, databaseUrl, keyEncryptionKey: randomBytes(32).toString('base64') });
    let appClosed = false;
    const closeApp = async () => {
      if (appClosed) return;
      appClosed = true;
      await orderstream.close();
    };
    cleanups.push(closeApp);
    await orderstream.start();
    await orderstream.app.listen({ host: '127.0.0.1', port: 0 });
    const baseUrl = `http://127.0.0.1:${(orderstream.app.server.address() as AddressInfo).port}`;
    const observerDb: Database = createDatabase({ url: databaseUrl, poolSize: 2, applicationName: observerApplication });
    cleanups.push(() => observerDb.destroy());
    const observer = new OrderObserver(observerDb);

    const api = apiClient(baseUrl);
    log(`registering ${options.customers} customers and an admin, creating ${options.products} products with stock`);
    const password = randomBytes(18).toString('base64url');
    const adminEmail = `admin-${randomBytes(4).toString('hex')}@bench.orderstream.local`;
    await api.expect(201, 'POST', '/v1/auth/register', { email: adminEmail, password });
    await orderstream.identity.grantAdmin(adminEmail);
    const adminToken = (await api.expect<{ accessToken: string }>(200, 'POST', '/v1/auth/login', { email: adminEmail, password })).accessToken;
    const customers: BenchCustomer[] = [];
    for (let index = 0; index < options.customers; index += 1) {
      const email = `customer-${index + 1}@bench.orderstream.local`;
      const user = await api.expect<{ id: string }>(201, 'POST', '/v1/auth/register', { email, password });
      const { accessToken } = await api.expect<{ accessToken: string }>(200, 'POST', '/v1/auth/login', { email, password });
      customers.push({ id: user.id, email, token: accessToken });
    }
    const skus = Array.from({ length: options.products }, (_, index) => benchSku(index));
    const productIds: string[] = new Array<string>(skus.length);
    await inBatches(skus.map((sku, index) => async () => {
      const product = await api.expect<{ id: string }>(201, 'POST', '/v1/products', {
        sku, name: `Bench product ${index + 1}`,
        description: 'A product of the benchmark catalogue, described in a sentence or two as a real one would be.',
        price: { amount: 500 + ((index * 137) % 9500), currency: 'EUR' },
      }, adminToken);
      productIds[index] = product.id;
      await api.expect(200, 'PUT', `/v1/inventory/${sku}`, { onHand: 500_000_000 }, adminToken);
    }), 8);
    const firstProduct = productIds[0] ?? '';
    const productBody = await api.text(200, 'GET', `/v1/products/${firstProduct}`, customers[0]?.token);

    log('placing one order per customer and waiting for the background work to finish');
    const since = new Date();
    const setupOrders: { orderId: string; token: string }[] = [];
    for (const [index, customer] of customers.entries()) {
      const order = await api.expect<{ id: string }>(202, 'POST', '/v1/orders', {
        items: [{ sku: skus[index % skus.length], quantity: 1 }], payment: { token: 'tok_visa' },
      }, customer.token, { 'idempotency-key': `bench-setup-${index}` });
      setupOrders.push({ orderId: order.id, token: customer.token });
    }
    const drained = await observer.waitForTerminal(since, 60_000);
    if (drained.unfinished > 0) throw new Error(`${drained.unfinished} setup orders did not finish within 60 s`);
    await observer.settle(60_000, { jobs: true });

    const backendPid = await observer.backendPid();
    return {
      baseUrl, databaseUrl, config, orderstream, observer, productIds, skus, customers, setupOrders, productBody,
      postgres: { version: await observer.serverVersion(), postmasterPid: postmasterOf(backendPid) },
      closeApp,
      close: cleanUp,
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

/** Setup requests through the real HTTP API, each expected to answer one status. */
function apiClient(baseUrl: string) {
  const send = async (method: string, url: string, body: unknown, token: string | undefined, headers: Record<string, string>) => fetch(`${baseUrl}${url}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = async (status: number, method: string, url: string, token?: string, body?: unknown, headers: Record<string, string> = {}): Promise<string> => {
    const response = await send(method, url, body, token, headers);
    const answer = await response.text();
    if (response.status !== status) throw new Error(`Benchmark setup: ${method} ${url} answered ${response.status}, expected ${status}: ${answer.slice(0, 500)}`);
    return answer;
  };
  return {
    text,
    async expect<T = unknown>(status: number, method: string, url: string, body?: unknown, token?: string, headers: Record<string, string> = {}): Promise<T> {
      const answer = await text(status, method, url, token, body, headers);
      return (answer === '' ? undefined : JSON.parse(answer)) as T;
    },
  };
}

async function inBatches(tasks: readonly (() => Promise<void>)[], concurrency: number): Promise<void> {
  const queue = [...tasks];
  await Promise.all(Array.from({ length: concurrency }, async () => {
    for (let task = queue.shift(); task !== undefined; task = queue.shift()) await task();
  }));
}
