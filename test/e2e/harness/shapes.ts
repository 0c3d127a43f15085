import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import type { Database } from '../../../src/platform/database/database.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../src/platform/testing/test-database.ts';
import { databaseVariableOf, moduleNames, type ModuleName } from '../../../src/apps/module-registry.ts';
import { freePort, OrderStreamProcess } from './orderstream-process.ts';

/** OrderStream running in one of its shapes, reached only through its public address. */
export interface RunningShape {
  /** Where the API answers (the gateway). */
  baseUrl: string;
  /** The database holding each module's tables (the same one in the single process). */
  databaseOf(module: ModuleName): Database;
  /** Every process, for fault tests. */
  processes: ReadonlyMap<string, OrderStreamProcess>;
  stop(): Promise<void>;
}

const common = {
  LOG_LEVEL: 'info', HOST: '127.0.0.1', RATE_LIMIT_BURST: '1000000', RATE_LIMIT_PER_SECOND: '1000000',
  AUTH_RATE_LIMIT_BURST: '10000', AUTH_RATE_LIMIT_PER_SECOND: '10000',
  LOGIN_FAILURES_BEFORE_DELAY: '1000', LOGIN_ADDRESS_BUDGET: '1000000', LOGIN_ACCOUNT_FAILURES_BEFORE_DELAY: '1000000',
  SAGA_STEP_TIMEOUT_MS: '20000', OUTBOX_POLL_INTERVAL_MS: '200', MESSAGE_RETRY_BASE_MS: '50', SIMULATED_PAYMENT_DELAY_MS: '300',
  EMAIL_TRANSPORT: 'file',
};

/** The single process (`orderstream start`) on one fresh database; `env` adds or overrides settings. */
export async function startSingleShape(env: Readonly<Record<string, string>> = {}): Promise<RunningShape> {
  const database = await createTestDatabase(embeddedServerUrl(), []);
  const files = await mkdtemp(path.join(tmpdir(), 'orderstream-single-'));
  const port = await freePort();
  const single = new OrderStreamProcess('single', [], {
    ...common, PORT: String(port), DATABASE_URL: database.url, DOCUMENTS_DIR: files, EMAIL_OUTBOX_DIR: files,
    IDENTITY_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'), ...env,
  });
  await single.start();
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    databaseOf: () => database.db,
    processes: new Map([['single', single]]),
    async stop() {
      await single.stop('SIGKILL');
      await database.drop();
      await rm(files, { recursive: true, force: true });
    },
  };
}

const serviceModules = moduleNames;

/**
 * The services shape: one process per service, each on its own database, messages through the
 * Kafka broker at `kafkaBrokers` (topics and groups namespaced for this run), behind `gateways`
 * gateway processes sharing Redis when `redisUrl` is given; `env` adds or overrides settings of every process.
 */
export async function startServicesShape(options: {
  kafkaBrokers: string; redisUrl?: string; gateways?: number; otlpEndpoint?: string; env?: Readonly<Record<string, string>>;
}): Promise<RunningShape> {
  const databases = new Map<string, { url: string; db: Database; drop: () => Promise<void> }>();
  for (const module of serviceModules) databases.set(module, await createTestDatabase(embeddedServerUrl(), []));
  const files = await mkdtemp(path.join(tmpdir(), 'orderstream-services-'));
  const ports = new Map<string, number>();
  for (const module of serviceModules) ports.set(module, await freePort());
  const urlOf = (module: string) => `http://127.0.0.1:${ports.get(module) ?? 0}`;
  const shared = {
    ...common,
    GATEWAY_SECRET: randomBytes(32).toString('base64'),
    KAFKA_BROKERS: options.kafkaBrokers,
    KAFKA_NAMESPACE: `test-${randomBytes(4).toString('hex')}`,
    KAFKA_TOPIC_PARTITIONS: '3',
    ...(options.redisUrl === undefined ? {} : { REDIS_URL: options.redisUrl, REDIS_KEY_PREFIX: `test-${randomBytes(4).toString('hex')}:` }),
    ...(options.otlpEndpoint === undefined ? {} : { OTEL_EXPORTER_OTLP_ENDPOINT: options.otlpEndpoint }),
    ...options.env,
  };
  const processes = new Map<string, OrderStreamProcess>();
  for (const module of serviceModules) {
    processes.set(module, new OrderStreamProcess(module, ['--role', module], {
      ...shared,
      PORT: String(ports.get(module) ?? 0),
      [databaseVariableOf(module)]: databases.get(module)?.url ?? '',
      IDENTITY_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      CATALOG_SERVICE_URL: urlOf('catalog'),
      INVENTORY_SERVICE_URL: urlOf('inventory'),
      ORDERS_SERVICE_URL: urlOf('orders'),
      DOCUMENTS_DIR: files, EMAIL_OUTBOX_DIR: files,
    }));
  }
  const upstreams = serviceModules.map((module) => `${module}=${urlOf(module)}`).join(';');
  const gatewayPorts: number[] = [];
  for (let index = 0; index < (options.gateways ?? 1); index += 1) {
    const port = await freePort();
    gatewayPorts.push(port);
    processes.set(`gateway-${index}`, new OrderStreamProcess(`gateway-${index}`, ['--role', 'gateway'], {
      ...shared, PORT: String(port), GATEWAY_UPSTREAMS: `${upstreams};docs=${urlOf('orders')}`,
    }));
  }
  try {
    await Promise.all([...processes.values()].map((child) => child.start(60_000)));
  } catch (error) {
    await Promise.all([...processes.values()].map((child) => child.stop('SIGKILL')));
    for (const database of databases.values()) await database.drop().catch(() => undefined);
    await rm(files, { recursive: true, force: true });
    throw error;
  }
  return {
    baseUrl: `http://127.0.0.1:${gatewayPorts[0] ?? 0}`,
    databaseOf: (module) => {
      const database = databases.get(module);
      if (database === undefined) throw new Error(`no ${module} database`);
      return database.db;
    },
    processes,
    async stop() {
      await Promise.all([...processes.values()].map((child) => child.stop('SIGKILL')));
      for (const database of databases.values()) await database.drop();
      await rm(files, { recursive: true, force: true });
    },
  };
}

/** Registers `email` and signs in; with `admin`, grants the role in identity's database first. */
export async function signIn(shape: RunningShape, email: string, options: { admin?: boolean } = {}): Promise<string> {
  const password = `a long enough password for ${email}`;
  const credentials = { email, password };
  await call(shape, 'POST', '/v1/auth/register', { body: credentials });
  if (options.admin === true) {
    await sql`update identity.users set roles = array['customer', 'admin'] where email = ${email}`.execute(shape.databaseOf('identity'));
  }
  const login = await call(shape, 'POST', '/v1/auth/login', { body: credentials });
  if (login.status !== 200) throw new Error(`sign-in of ${email} failed: ${login.status} ${JSON.stringify(login.body)}`);
  return (login.body as { accessToken: string }).accessToken;
}

/** One JSON request to the shape's public address. */
export async function call(
  shape: RunningShape, method: string, url: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const response = await fetch(`${shape.baseUrl}${url}`, {
    method,
    headers: {
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
      ...options.headers,
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) as unknown, headers: response.headers };
}
