import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { decodeJwt } from 'jose';
import { sql } from 'kysely';
import { loadConfig, type Config } from '../src/platform/config/config.ts';
import { createDatabase, type Database } from '../src/platform/database/database.ts';
import { startEmbeddedPostgres, type EmbeddedPostgresServer } from '../src/platform/database/embedded-postgres.ts';
import type { Logger } from '../src/platform/logging/logger.ts';
import { ensureDatabase } from '../src/apps/single-process.ts';
import { benchSku } from './catalogue.ts';
import { oneDatabase, OrderObserver } from './order-observer.ts';
import type { OrderStreamProbe } from './orderstream-probe.ts';
import { postmasterOf, type WatchedProcess } from './resource-sampler.ts';
import { environmentWithoutSettings, startSingleShapeProcess } from './single-shape-process.ts';

/** `application_name` of the harness's own connections, which statement captures leave out. */
export const observerApplication = 'orderstream-bench-observer';

/** A customer of the benchmark, signed in with a real access token. */
export interface BenchCustomer {
  id: string;
  email: string;
  /** For the login storm's sign-ins. */
  password: string;
  token: string;
}

/** What setup made through the HTTP API: the catalogue with its stock, the customers and their first orders. */
export interface SeededData {
  productIds: string[];
  skus: string[];
  customers: BenchCustomer[];
  /** Orders placed during setup, one per customer, for own-order reads. */
  setupOrders: { orderId: string; token: string }[];
  /** The body of `GET /v1/products/{id}`, which the HTTP ceiling answers byte for byte. */
  productBody: string;
  /** The admin's access token, for the console's reads. */
  adminToken: string;
}

/** OrderStream in one of its shapes, listening on loopback, with a catalogue, stock and customers. */
export interface BenchTarget extends SeededData {
  shape: 'single' | 'services';
  /** Where the API answers: the single shape's process, or nginx in front of the services shape's gateways. */
  baseUrl: string;
  /** The single shape's database, which the db-ceiling replays on; undefined in the services shape (it has no db-ceiling). */
  databaseUrl: string | undefined;
  /** A database on the same PostgreSQL server where commit-ceiling and statement-ceiling work in a scratch schema: the single shape's, the services shape's orders database. */
  ceilingDatabaseUrl: string;
  /** What OrderStream runs with, read from the environment its processes get; in the services shape, what every process reads besides its own address and database. */
  config: Config;
  observer: OrderObserver;
  /**
   * The processes sampled by pid: OrderStream's (the single shape's one process; the services
   * shape's gateways and services) and the others (nginx, Kafka; none in the single shape).
   */
  processes: { app: WatchedProcess[]; others: WatchedProcess[] };
  /** The single shape's: what only OrderStream's own process sees (the statements it sends, its V8 heap). Undefined in the services shape. */
  probe: OrderStreamProbe | undefined;
  postgres: { version: string; postmasterPid: number | undefined };
  /** Stops OrderStream (HTTP and background work) but keeps the database running. */
  closeApp(): Promise<void>;
  /** Stops everything and removes the temporary folder. */
  close(): Promise<void>;
}

/**
 * Rate limits and sign-in budgets out of the way, long-lived tokens, application logs at `warn`, and admission control
 * that holds accepted orders to about one and a half seconds of finishing work, so that with their
 * own saga they confirm within two (the overload scenario shows it): what every shape runs with.
 */
export const benchSettings = {
  LOG_LEVEL: 'warn',
  ORDER_BACKLOG_SECONDS: '1.5',
  DEV_IDENTITY_HEADERS: 'false',
  RATE_LIMIT_BURST: '1000000', RATE_LIMIT_PER_SECOND: '1000000',
  AUTH_RATE_LIMIT_BURST: '1000', AUTH_RATE_LIMIT_PER_SECOND: '1000',
  // A sign-in counts against its (account, address) budget while its hash runs, so the login-storm's
  // 64 concurrent sign-ins of 8 customers from one address would be throttled: the budgets stay out of the way too.
  LOGIN_FAILURES_BEFORE_DELAY: '100', LOGIN_ACCOUNT_FAILURES_BEFORE_DELAY: '100', LOGIN_ADDRESS_BUDGET: '1000000',
  ACCESS_TOKEN_TTL_SECONDS: '7200',
} as const;

/** Options every shape's target is started with. */
export interface BenchTargetOptions {
  products: number;
  customers: number;
  logger: Logger;
  /** Use this PostgreSQL server (new databases on it) instead of starting one. */
  databaseServerUrl?: string;
  log?: (line: string) => void;
}

/** A run's temporary folder and PostgreSQL server, with the steps that undo the setup. */
export interface BenchWorkspace {
  /** A new folder under /var/tmp, removed at the end. */
  workDir: string;
  /** The server's URL: a fresh embedded PostgreSQL in `workDir`, or the given server. */
  serverUrl: string;
  /** True when `serverUrl` is a server of the caller's, on which the run must drop what it made. */
  sharedServer: boolean;
  /** Adds a step to the clean-up; the steps run in the reverse order of their adding. */
  onCleanUp: (step: () => Promise<void>) => void;
  /** Runs the clean-up once, however many callers (the run's end, a Ctrl-C) ask for it. */
  cleanUp: () => Promise<void>;
}

/** A temporary folder under /var/tmp and a fresh embedded PostgreSQL in it (or `databaseServerUrl`). */
export async function openBenchWorkspace(options: BenchTargetOptions): Promise<BenchWorkspace> {
  const log = options.log ?? (() => undefined);
  const workDir = await mkdtemp(path.join('/var/tmp', 'orderstream-bench-'));
  // As root, the embedded server runs as `postgres`, which must reach its folder.
  await chmod(workDir, 0o755);
  const cleanups: (() => Promise<void>)[] = [() => rm(workDir, { recursive: true, force: true })];
  let closing: Promise<void> | undefined;
  const cleanUp = () => (closing ??= (async () => {
    for (const cleanup of [...cleanups].reverse()) await cleanup().catch(() => undefined);
  })());
  const workspace = { workDir, onCleanUp: (step: () => Promise<void>) => { cleanups.push(step); }, cleanUp };
  if (options.databaseServerUrl !== undefined) return { ...workspace, serverUrl: options.databaseServerUrl, sharedServer: true };
  try {
    log('starting a fresh embedded PostgreSQL');
    const server: EmbeddedPostgresServer = await startEmbeddedPostgres({ dataDir: path.join(workDir, 'postgres'), logger: options.logger });
    cleanups.push(() => server.stop());
    return { ...workspace, serverUrl: server.url, sharedServer: false };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

/**
 * Starts OrderStream in the single-process shape for a benchmark on a fresh database, as a user
 * starts it (`node src/cli.ts start`, see single-shape-process.ts) but as a child of the harness: a
 * new embedded PostgreSQL in a temporary folder under /var/tmp (or a new database on
 * `databaseServerUrl`), rate limits out of the way, development identity headers off (the JWT
 * check at the edge is part of what is measured), and `products` products with ample stock and
 * `customers` customers registered and signed in through the HTTP API; the admin is made one in
 * the database, as in the services shape.
 */
export async function startBenchTarget(options: BenchTargetOptions): Promise<BenchTarget> {
  const log = options.log ?? (() => undefined);
  const { workDir, serverUrl, sharedServer, onCleanUp, cleanUp } = await openBenchWorkspace(options);
  try {
    let databaseName = 'orderstream';
    if (sharedServer) {
      databaseName = `bench_${randomBytes(6).toString('hex')}`;
      const admin = createDatabase({ url: serverUrl, poolSize: 1 });
      onCleanUp(async () => {
        await sql.raw(`drop database if exists ${databaseName} with (force)`).execute(admin);
        await admin.destroy();
      });
    }
    const databaseUrl = await ensureDatabase(serverUrl, databaseName);
    const env: NodeJS.ProcessEnv = {
      ...environmentWithoutSettings(process.env),
      ...benchSettings,
      DOCUMENTS_DIR: path.join(workDir, 'documents'),
      EMAIL_OUTBOX_DIR: path.join(workDir, 'mail'),
      DATABASE_URL: databaseUrl,
      // Set, so that the process keeps no development key file in the checkout.
      IDENTITY_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    };
    const config = loadConfig(env);
    const orderstream = await startSingleShapeProcess({ dir: workDir, env, log });
    const closeApp = onlyOnce(() => orderstream.stop());
    onCleanUp(closeApp);
    const { baseUrl } = orderstream;
    const observerDb: Database = createDatabase({ url: databaseUrl, poolSize: 2, applicationName: observerApplication });
    onCleanUp(() => observerDb.destroy());
    const observer = new OrderObserver(oneDatabase(observerDb));
    const seeded = await seedThroughApi({
      baseUrl, products: options.products, customers: options.customers, observer, log,
      grantAdmin: async (email) => {
        await sql`update identity.users set roles = array['customer', 'admin'] where email = ${email}`.execute(observerDb);
      },
    });
    const backendPid = await observer.backendPid();
    return {
      ...seeded, shape: 'single', baseUrl, databaseUrl, ceilingDatabaseUrl: databaseUrl, config, observer,
      processes: { app: [orderstream.process], others: [] }, probe: orderstream.probe,
      postgres: { version: await observer.serverVersion(), postmasterPid: postmasterOf(backendPid) },
      closeApp,
      close: cleanUp,
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

/**
 * Seeds a running OrderStream through its HTTP API, as any shape is seeded: an admin (made one by
 * `grantAdmin`) and `customers` customers register and sign in, `products` products get ample
 * stock, each customer places one order; then waits until those orders ended and the background is idle.
 */
export async function seedThroughApi(options: {
  baseUrl: string;
  products: number;
  customers: number;
  observer: OrderObserver;
  /** Gives the registered account with this email the admin role (in the identity module's database). */
  grantAdmin: (email: string) => Promise<void>;
  log: (line: string) => void;
}): Promise<SeededData> {
  const { observer, log } = options;
  const api = apiClient(options.baseUrl);
  log(`registering ${options.customers} customers and an admin, creating ${options.products} products with stock`);
  const password = randomBytes(18).toString('base64url');
  const adminEmail = `admin-${randomBytes(4).toString('hex')}@bench.orderstream.local`;
  await api.expect(202, 'POST', '/v1/auth/register', { email: adminEmail, password });
  await options.grantAdmin(adminEmail);
  const adminToken = (await api.expect<{ accessToken: string }>(200, 'POST', '/v1/auth/login', { email: adminEmail, password })).accessToken;
  const customers: BenchCustomer[] = [];
  for (let index = 0; index < options.customers; index += 1) {
    const email = `customer-${index + 1}@bench.orderstream.local`;
    await api.expect(202, 'POST', '/v1/auth/register', { email, password });
    const { accessToken } = await api.expect<{ accessToken: string }>(200, 'POST', '/v1/auth/login', { email, password });
    // Registration answers no id (it would tell a new account from a taken email); the token's subject is the account's id.
    customers.push({ id: subjectOf(accessToken), email, password, token: accessToken });
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

  return { productIds, skus, customers, setupOrders, productBody, adminToken };
}

/** Setup requests through the real HTTP API, each expected to answer one status. */
/** The account id an access token is for (its `sub`). */
function subjectOf(accessToken: string): string {
  const { sub } = decodeJwt(accessToken);
  if (sub === undefined) throw new Error('the access token names no subject');
  return sub;
}

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

/** `close` run at most once, however many callers (the run's end, a Ctrl-C, the clean-up) ask. */
export function onlyOnce(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => (closing ??= close());
}

/** Runs `tasks` with at most `concurrency` of them at once, each taking the next when it is done. */
export async function inBatches(tasks: readonly (() => Promise<void>)[], concurrency: number): Promise<void> {
  const queue = [...tasks];
  await Promise.all(Array.from({ length: concurrency }, async () => {
    for (let task = queue.shift(); task !== undefined; task = queue.shift()) await task();
  }));
}
