import { sql } from 'kysely';
import type { Config } from '../platform/config/config.ts';
import { createDatabase, isDatabaseReachable, type Database } from '../platform/database/database.ts';
import { migrate, type MigrationSet } from '../platform/database/migrations.ts';
import { createHttpApp, type HttpApp } from '../platform/http/app.ts';
import type { Logger } from '../platform/logging/logger.ts';
import { createMessaging, InProcessTransport, messagingMigrations, type MessageTransport, type Messaging } from '../platform/messaging/index.ts';
import type { BackgroundTask } from '../platform/background/background-loop.ts';
import { catalogMigrations, createCatalogModule } from '../modules/catalog/index.ts';
import { createInventoryModule, inventoryMigrations } from '../modules/inventory/index.ts';
import { createNotificationsModule, notificationsMigrations } from '../modules/notifications/index.ts';
import { createOrdersModule, ordersMigrations } from '../modules/orders/index.ts';
import { createPaymentsModule, paymentsMigrations } from '../modules/payments/index.ts';
import { createIdentityModule, identityMigrations, TokenRejectedError as IdentityTokenRejectedError, type IdentityModule } from '../modules/identity/index.ts';
import { createJobsModule, jobsMigrations } from '../modules/jobs/index.ts';
import { MemoryRateLimiter, TokenRejectedError, type RateLimiter, type TokenVerifier } from '../platform/http/edge.ts';
import { RedisRateLimiter } from '../platform/http/redis-rate-limiter.ts';
import { routePolicies } from './gateway/route-policies.ts';

/** Every module's migrations, in the order they are applied. */
export const allMigrations: readonly MigrationSet[] = [
  messagingMigrations, identityMigrations, catalogMigrations, inventoryMigrations, paymentsMigrations, ordersMigrations,
  notificationsMigrations, jobsMigrations,
];

/**
 * What a process runs: `all` everything (the default); `api` the HTTP app, messaging and background
 * work but no job workers (pg-boss still starts, so it queues jobs); `worker` everything, job workers
 * included, while the CLI does not listen — so heavy jobs never slow the API's process down.
 */
export type ProcessRole = 'all' | 'api' | 'worker';

export const processRoles: readonly ProcessRole[] = ['all', 'api', 'worker'];

/** OrderStream as one process: every module, in-process messaging, one database. */
export interface SingleProcess {
  role: ProcessRole;
  app: HttpApp;
  db: Database;
  messaging: Messaging;
  identity: IdentityModule;
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
}): Promise<SingleProcess> {
  const { config, logger, databaseUrl } = options;
  const role = options.role ?? 'all';
  const db = createDatabase({ url: databaseUrl, poolSize: config.DATABASE_POOL_SIZE });
  try {
    await migrate(db, allMigrations, logger);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  // Tests pass a transport that duplicates every message; the services shape will pass Kafka's.
  const transport = options.transport ?? new InProcessTransport({ concurrency: config.MESSAGE_DELIVERY_CONCURRENCY });
  const messaging = createMessaging({
    db, transport, logger,
    retryPolicy: { maxAttempts: config.MESSAGE_MAX_ATTEMPTS, baseDelayMs: config.MESSAGE_RETRY_BASE_MS },
    pollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS,
    listenUrl: databaseUrl,
  });
  const identity = createIdentityModule({
    db, logger,
    issuer: config.IDENTITY_ISSUER,
    audience: config.IDENTITY_AUDIENCE,
    keyEncryptionKey: options.keyEncryptionKey,
    accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlDays: config.REFRESH_TOKEN_TTL_DAYS,
    keyRotationDays: config.SIGNING_KEY_ROTATION_DAYS,
    clockSkewSeconds: config.JWT_CLOCK_SKEW_SECONDS,
    loginThrottle: { maxFailures: config.LOGIN_MAX_FAILURES, windowSeconds: config.LOGIN_FAILURE_WINDOW_SECONDS },
    externalIssuers: config.EXTERNAL_OIDC_ISSUERS,
  });
  const catalog = createCatalogModule({ db });
  const inventory = createInventoryModule({ db, logger, reservationTtlSeconds: config.RESERVATION_TTL_SECONDS });
  const payments = createPaymentsModule({
    db, logger,
    provider: config.PAYMENT_PROVIDER,
    simulatedDelayMs: config.SIMULATED_PAYMENT_DELAY_MS,
    ...(config.STRIPE_API_KEY === undefined ? {} : { stripeApiKey: config.STRIPE_API_KEY }),
    ...(config.STRIPE_API_BASE_URL === undefined ? {} : { stripeApiBaseUrl: config.STRIPE_API_BASE_URL }),
    ...(config.STRIPE_WEBHOOK_SECRET === undefined ? {} : { stripeWebhookSecret: config.STRIPE_WEBHOOK_SECRET }),
  });
  const orders = createOrdersModule({
    db, logger,
    catalog: catalog.client,
    stepTimeoutMs: config.SAGA_STEP_TIMEOUT_MS,
    idempotencyTtlHours: config.IDEMPOTENCY_KEY_TTL_HOURS,
    devIdentityHeaders: config.DEV_IDENTITY_HEADERS,
  });
  const notifications = createNotificationsModule({
    db, logger,
    email: config.EMAIL_TRANSPORT === 'smtp' && config.SMTP_URL !== undefined
      ? { transport: 'smtp', smtpUrl: config.SMTP_URL }
      : { transport: 'file', outboxDir: config.EMAIL_OUTBOX_DIR },
    emailFrom: config.EMAIL_FROM,
    maxAttempts: config.NOTIFICATION_MAX_ATTEMPTS,
    retryBaseMs: config.NOTIFICATION_RETRY_BASE_MS,
    webhookTimeoutMs: config.WEBHOOK_TIMEOUT_MS,
  });
  const jobs = createJobsModule({
    db, logger, databaseUrl,
    documents: config.DOCUMENTS_STORE === 's3' && config.S3_BUCKET !== undefined
      ? {
        store: 's3', bucket: config.S3_BUCKET, prefix: config.S3_PREFIX, region: config.S3_REGION, forcePathStyle: config.S3_FORCE_PATH_STYLE,
        ...(config.S3_ENDPOINT === undefined ? {} : { endpoint: config.S3_ENDPOINT }),
      }
      : { store: 'filesystem', directory: config.DOCUMENTS_DIR },
    catalog: catalog.client,
    inventory: inventory.client,
    devIdentityHeaders: config.DEV_IDENTITY_HEADERS,
    importMaxBytes: config.IMPORT_MAX_BYTES,
    jobConcurrency: config.JOB_CONCURRENCY,
    jobMaxAttempts: config.JOB_MAX_ATTEMPTS,
    jobRetryDelaySeconds: config.JOB_RETRY_DELAY_SECONDS,
    jobTimeoutSeconds: config.JOB_TIMEOUT_SECONDS,
    invoiceSeller: config.INVOICE_SELLER,
    runWorkers: role !== 'api',
  });
  const modules = [identity, inventory, payments, orders, notifications, jobs];
  for (const module of modules) {
    for (const consumer of module.consumers) messaging.register(consumer);
  }
  const background: BackgroundTask[] = modules.flatMap((module) => module.background);
  // With Redis, every process behind the load balancer draws from one budget per client.
  const limiterOf = (bucket: string, burst: number, perSecond: number): RateLimiter => (config.REDIS_URL === undefined
    ? new MemoryRateLimiter({ burst, perSecond })
    : new RedisRateLimiter({ url: config.REDIS_URL, burst, perSecond, keyPrefix: `orderstream:rate:${bucket}:`, logger }));
  const rateLimiter = limiterOf('api', config.RATE_LIMIT_BURST, config.RATE_LIMIT_PER_SECOND);
  const authRateLimiter = limiterOf('auth', config.AUTH_RATE_LIMIT_BURST, config.AUTH_RATE_LIMIT_PER_SECOND);
  const app = createHttpApp({
    securityHeaders: true,
    corsOrigins: config.CORS_ORIGINS,
    logger,
    bodyLimit: config.BODY_LIMIT_BYTES,
    routes: [catalog.routes, ...modules.flatMap((module) => (module.routes === undefined ? [] : [module.routes]))],
    readiness: [{ name: 'database', check: () => isDatabaseReachable(db, 2000) }],
    edge: {
      policies: routePolicies,
      verifier: edgeVerifier(identity.verifier),
      rateLimiter,
      authRateLimiter,
      bodyLimit: Math.max(config.BODY_LIMIT_BYTES, config.IMPORT_MAX_BYTES),
      devIdentityHeaders: config.DEV_IDENTITY_HEADERS,
      logger,
    },
  });
  let started = false;
  return {
    role, app, db, messaging, identity,
    async start() {
      await messaging.start();
      for (const task of background) task.start();
      started = true;
      await jobs.whenReady();
    },
    async close() {
      await app.close();
      await Promise.all([rateLimiter, authRateLimiter].map((limiter) => (limiter instanceof RedisRateLimiter ? limiter.close() : Promise.resolve())));
      if (started) {
        await Promise.all(background.map((task) => task.stop()));
        await messaging.stop();
      }
      await db.destroy();
    },
  };
}

/** The identity module's verifier in the edge's terms: its rejections become the edge's 401. */
function edgeVerifier(verifier: IdentityModule['verifier']): TokenVerifier {
  return {
    async verify(token) {
      try {
        const principal = await verifier.verify(token);
        return { id: principal.id, email: principal.email, roles: principal.roles };
      } catch (error) {
        if (error instanceof IdentityTokenRejectedError) throw new TokenRejectedError(error.reason);
        throw error;
      }
    },
  };
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
