import { sql } from 'kysely';
import type { Config } from '../platform/config/config.ts';
import { createDatabase, databaseReadiness, type Database } from '../platform/database/database.ts';
import { migrate, type MigrationSet } from '../platform/database/migrations.ts';
import { createHttpApp, type HttpApp, type ReadinessCheck } from '../platform/http/app.ts';
import { RedisRateLimiter } from '../platform/http/redis-rate-limiter.ts';
import { createMetrics, type Metrics } from '../platform/observability/metrics.ts';
import { createOpsServer, type OpsServer } from '../platform/observability/ops-server.ts';
import type { Logger } from '../platform/logging/logger.ts';
import { createMessaging, deadLetterRoutes, InProcessTransport, messagingMigrations, type MessageTransport, type Messaging } from '../platform/messaging/index.ts';
import { auditMigrations, auditRoutes } from '../platform/audit/index.ts';
import type { BackgroundTask } from '../platform/background/background-loop.ts';
import type { IdentityModule } from '../modules/identity/index.ts';
import type { JobsModule } from '../modules/jobs/index.ts';
import type { PaymentsTestOverrides } from '../modules/payments/index.ts';
import { asyncApiRoutes } from './asyncapi.ts';
import { consoleFiles } from './console.ts';
import { createRateLimiters, edgeOptions, gatewayTrustSettings } from './edge-wiring.ts';
import { routePolicies } from './gateway/route-policies.ts';
import { moduleFactories } from './module-factories.ts';
import { auditedModules, consumingModules, moduleNames } from './module-registry.ts';
import { createModules, databaseSettings, messagingRetention, messagingRetryLeaseMs, outboxNotifyOf, partsOf } from './modules.ts';

/** Every module's migrations, in the order they are applied: messaging's and the audit trail's, then the registry's. */
export const allMigrations: readonly MigrationSet[] = [messagingMigrations, auditMigrations, ...moduleNames.map((name) => moduleFactories[name].migrations)];

/**
 * What a process runs: `all` everything (the default); `api` the HTTP app, messaging and background
 * work but no job workers (pg-boss still starts, so it queues jobs); `worker` everything, job workers
 * included, while the CLI does not listen — so heavy jobs never slow the API's process down.
 */
export type ProcessRole = 'all' | 'api' | 'worker';

/** Relay passes published at once in one process: enough for each consumer to have its next batch queued while it works. */
const relayPassesInFlight = 4;

export const processRoles: readonly ProcessRole[] = ['all', 'api', 'worker'];

/** OrderStream as one process: every module, in-process messaging, one database. */
export interface SingleProcess {
  role: ProcessRole;
  app: HttpApp;
  db: Database;
  messaging: Messaging;
  identity: IdentityModule;
  /** This process's Prometheus metrics (its own registry). */
  metrics: Metrics;
  /** The operations listener (`/metrics`, `/healthz`, `/readyz`), not listening until the CLI (or a test) calls `listen`. */
  ops: OpsServer;
  /** Starts background work (outbox relay, retries, module workers and sweepers). The HTTP app works without it. */
  start(): Promise<void>;
  /** Stops background work and closes the HTTP app and the database pool. */
  close(): Promise<void>;
}

/**
 * The single-process composition root: migrates the database at `databaseUrl`, wires every module
 * to it and returns the app without listening, so tests can `inject()` and the CLI can `listen()`.
 */
export async function createSingleProcess(options: {
  config: Config;
  logger: Logger;
  databaseUrl: string;
  /** Encrypts stored signing keys: IDENTITY_KEY_ENCRYPTION_KEY, or the development key the CLI keeps. */
  keyEncryptionKey: string;
  transport?: MessageTransport;
  /** Default `all`. */
  role?: ProcessRole;
  /** Tests replace the payment provider (one that fails on demand) and shorten its retries. */
  payments?: PaymentsTestOverrides;
}): Promise<SingleProcess> {
  const { config, logger, databaseUrl } = options;
  const role = options.role ?? 'all';
  const db = await openMigratedDatabase(config, logger, databaseUrl);
  // Tests pass a transport that duplicates every message.
  const transport: MessageTransport = options.transport ?? new InProcessTransport({ concurrency: config.MESSAGE_DELIVERY_CONCURRENCY });
  const metrics = createMetrics({ logger });
  const messaging = createProcessMessaging({ config, logger, metrics, db, transport, databaseUrl, role, ownTransport: options.transport === undefined });
  const built = createModules({
    config, logger, metrics, keyEncryptionKey: options.keyEncryptionKey,
    databases: Object.fromEntries(moduleNames.map((name) => [name, { db, url: databaseUrl }])),
    runJobWorkers: role !== 'api',
    ...(options.payments === undefined ? {} : { payments: options.payments }),
  });
  const { identity, jobs } = built;
  if (identity === undefined || jobs === undefined) throw new Error('the single process runs every module');
  const modules = partsOf(built);
  for (const module of modules) {
    for (const consumer of module.consumers) messaging.register(consumer);
  }
  const background: BackgroundTask[] = modules.flatMap((module) => module.background);
  // Behind a gateway (GATEWAY_SECRET set), the gateway has limited, verified and authorized the
  // request already, and this process trusts only what it signed. Otherwise this app is the edge;
  // with Redis, every process behind the load balancer draws from one budget per client.
  const behindGateway = config.GATEWAY_SECRET !== undefined;
  const limiters = behindGateway ? undefined : createRateLimiters(config, logger);
  const readiness = readinessChecks(db, transport, limiters?.rateLimiter);
  measure(metrics, db, transport, jobs);
  const ops = createOpsServer({ metrics, readiness, logger });
  const app = createHttpApp({
    securityHeaders: true,
    corsOrigins: config.CORS_ORIGINS,
    logger,
    bodyLimit: config.BODY_LIMIT_BYTES,
    routes: [
      ...modules.flatMap((module) => (module.routes === undefined ? [] : [module.routes])),
      asyncApiRoutes(),
      consoleFiles(),
      ...consumingModules.map((module) => deadLetterRoutes(db, module)),
      ...auditedModules.map((module) => auditRoutes(db, module)),
    ],
    readiness,
    metrics,
    trustProxy: config.TRUST_PROXY,
    ...(config.GATEWAY_SECRET !== undefined ? { gatewayTrust: gatewayTrustSettings(config, config.GATEWAY_SECRET, routePolicies) } : {}),
    ...(limiters === undefined ? {} : { edge: edgeOptions({ config, logger, metrics, policies: routePolicies, verifier: identity.verifier, limiters }) }),
  });
  let started = false;
  return {
    role, app, db, messaging, identity, metrics, ops,
    async start() {
      await messaging.start();
      for (const task of background) task.start();
      started = true;
      await jobs.whenReady();
    },
    async close() {
      await app.close();
      await ops.close();
      await limiters?.close();
      if (started) {
        await Promise.all(background.map((task) => task.stop()));
        await messaging.stop();
      }
      await identity.close();
      await db.destroy();
    },
  };
}

/** The one database, migrated with every module's schema; its pool is closed again when a migration fails. */
async function openMigratedDatabase(config: Config, logger: Logger, databaseUrl: string): Promise<Database> {
  const db = createDatabase({ url: databaseUrl, poolSize: config.DATABASE_POOL_SIZE, ...databaseSettings(config) });
  try {
    await migrate(db, allMigrations, logger);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return db;
}

/** The messaging of the one database, which every module's consumers join. */
function createProcessMessaging(options: {
  config: Config; logger: Logger; metrics: Metrics; db: Database; transport: MessageTransport; databaseUrl: string; role: ProcessRole;
  /** The transport is the process's own in-process one, not a test's. */
  ownTransport: boolean;
}): Messaging {
  const { config, metrics } = options;
  return createMessaging({
    db: options.db, transport: options.transport, logger: options.logger, metrics,
    retryPolicy: { maxAttempts: config.MESSAGE_MAX_ATTEMPTS, baseDelayMs: config.MESSAGE_RETRY_BASE_MS },
    pollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS,
    listenUrl: options.databaseUrl,
    notify: outboxNotifyOf(config, options.role),
    retention: messagingRetention(config, metrics),
    retryLeaseMs: messagingRetryLeaseMs(config),
    // The in-process transport queues per consumer in publish order, so the relay need not wait for
    // the slowest consumer before reading the next rows (a test's own transport gets one pass at a time).
    ...(options.ownTransport ? { publishesInFlight: relayPassesInFlight } : {}),
  });
}

/** Points the metrics at the one database, the job queues and the consumer lag. */
function measure(metrics: Metrics, db: Database, transport: MessageTransport, jobs: JobsModule): void {
  metrics.readFrom({
    database: db,
    // One database serves every module.
    tableSizes: [{ database: 'all', db }],
    jobQueues: () => jobs.queueDepths(),
    ...(transport.lag === undefined ? {} : { consumerLag: () => transport.lag?.() ?? Promise.resolve([]) }),
  });
}

/**
 * What `/readyz` checks: the database, which nothing works without; Redis and Kafka when configured,
 * reported but not required, because the process works around them (the rate limit fails open, the
 * outbox keeps messages until the broker is back) and taking every instance out of rotation for a
 * shared dependency would turn a degradation into an outage.
 */
function readinessChecks(db: Database, transport: MessageTransport, rateLimiter: unknown): ReadinessCheck[] {
  const checks: ReadinessCheck[] = [{ name: 'database', check: () => databaseReadiness(db, 2000) }];
  if (rateLimiter instanceof RedisRateLimiter) checks.push({ name: 'redis', required: false, check: () => rateLimiter.isReachable() });
  if (transport.isReachable !== undefined) checks.push({ name: 'kafka', required: false, check: () => transport.isReachable?.() ?? Promise.resolve(false) });
  return checks;
}

/** Creates `name` on the server at `serverUrl` unless it exists; returns the URL of that database. */
export async function ensureDatabase(serverUrl: string, name: string): Promise<string> {
  const admin = createDatabase({ url: serverUrl, poolSize: 1 });
  try {
    const exists = await sql`select 1 from pg_database where datname = ${name}`.execute(admin);
    if (exists.rows.length === 0) {
      await sql.raw(`create database "${name.replaceAll('"', '""')}"`).execute(admin).catch((error: unknown) => {
        // Two processes creating it at once: the loser finds it exists, which is what it wanted.
        if ((error as { code?: string }).code !== '42P04') throw error;
      });
    }
  } finally {
    await admin.destroy();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
