import type { Config } from '../platform/config/config.ts';
import type { Database } from '../platform/database/database.ts';
import type { MigrationSet } from '../platform/database/migrations.ts';
import type { EmailTransportSettings } from '../platform/email/index.ts';
import type { Logger } from '../platform/logging/logger.ts';
import type { BatchLimits, RetentionMetrics } from '../platform/database/retention-sweeper.ts';
import type { Metrics } from '../platform/observability/metrics.ts';
import { catalogMigrations, createCatalogModule, type CatalogClient, type CatalogImportClient, type CatalogModule } from '../modules/catalog/index.ts';
import { createIdentityModule, identityMigrations, type IdentityModule } from '../modules/identity/index.ts';
import { createInventoryModule, inventoryMigrations, type InventoryClient, type InventoryModule } from '../modules/inventory/index.ts';
import { createJobsModule, jobsMigrations, type JobsModule } from '../modules/jobs/index.ts';
import { createNotificationsModule, notificationsMigrations, type NotificationsModule } from '../modules/notifications/index.ts';
import { createOrdersModule, ordersMigrations, type OrdersExportClient, type OrdersModule } from '../modules/orders/index.ts';
import { createPaymentsModule, paymentsMigrations, type PaymentsModule, type PaymentsTestOverrides } from '../modules/payments/index.ts';
import type { ModuleName } from './module-registry.ts';
import { jobMetricsOf, orderMetricsOf, paymentMetricsOf } from './module-metrics.ts';

/** What each module of the registry is once built. */
export interface ModuleTypes {
  identity: IdentityModule;
  catalog: CatalogModule;
  inventory: InventoryModule;
  orders: OrdersModule;
  payments: PaymentsModule;
  notifications: NotificationsModule;
  jobs: JobsModule;
}

/** What a factory gets: settings, its own database, and the clients of the modules it calls. */
export interface ModuleContext {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  /** Encrypts identity's stored signing keys. */
  keyEncryptionKey: string;
  database: { db: Database; url: string };
  /** The catalog's client: in-process when the catalog is built before in this process, else over HTTP; undefined when neither. */
  catalog: (CatalogClient & CatalogImportClient) | undefined;
  /** The inventory's client, the same way. */
  inventory: InventoryClient | undefined;
  /** The orders module's client for exports, the same way. */
  orders: OrdersExportClient | undefined;
  /**
   * The catalog and inventory are built in this process on this module's own database, so their
   * writes can join this module's transaction (an import chunk, decision 0029); not when either is
   * reached over HTTP, where holding a transaction open across the requests would gain nothing.
   */
  writersShareDatabase: boolean;
  /** Run the document job workers in this process (not in an api-only process). */
  runJobWorkers: boolean;
  /** Tests replace the payment provider (one that fails on demand) and shorten its retries. */
  payments: PaymentsTestOverrides | undefined;
}

/** How a registry module is made: its migrations (its schema) and the factory that turns settings into its options. */
export interface ModuleFactory<Module> {
  migrations: MigrationSet;
  create(context: ModuleContext): Module;
}

/**
 * Each module's migrations and factory, keyed by the registry's names: the one place where settings
 * become module options, shared by the single process and the services shape. A name the registry
 * lacks, or one it has and this misses, does not compile.
 */
export const moduleFactories: { readonly [Name in ModuleName]: ModuleFactory<ModuleTypes[Name]> } = {
  identity: { migrations: identityMigrations, create: createIdentity },
  catalog: {
    migrations: catalogMigrations,
    create: ({ config, logger, metrics, database }) => createCatalogModule({
      db: database.db, readCacheSeconds: config.CATALOG_READ_CACHE_SECONDS,
      lowStockThreshold: config.LOW_STOCK_THRESHOLD, devIdentityHeaders: config.DEV_IDENTITY_HEADERS,
      retention: { logger, appliedBatchSeconds: config.JOB_RETENTION_DAYS * 86_400, ...retentionSettings(config, metrics) },
    }),
  },
  inventory: {
    migrations: inventoryMigrations,
    create: ({ config, logger, metrics, database }) => createInventoryModule({
      db: database.db, logger, reservationTtlSeconds: config.RESERVATION_TTL_SECONDS,
      retention: { appliedBatchSeconds: config.JOB_RETENTION_DAYS * 86_400, ...retentionSettings(config, metrics) },
    }),
  },
  orders: { migrations: ordersMigrations, create: createOrders },
  payments: { migrations: paymentsMigrations, create: createPayments },
  notifications: {
    migrations: notificationsMigrations,
    create: ({ config, logger, database }) => createNotificationsModule({
      db: database.db, logger,
      email: emailTransportOf(config),
      emailFrom: config.EMAIL_FROM,
      maxAttempts: config.NOTIFICATION_MAX_ATTEMPTS,
      retryBaseMs: config.NOTIFICATION_RETRY_BASE_MS,
      webhookTimeoutMs: config.WEBHOOK_TIMEOUT_MS,
      webhookAllowedNetworks: config.WEBHOOK_ALLOWED_NETWORKS ?? [],
    }),
  },
  jobs: { migrations: jobsMigrations, create: createJobs },
};

/** How retention sweepers run (RETENTION_* variables), for messaging and for each module that prunes its tables. */
export function retentionSettings(config: Config, metrics: RetentionMetrics): { intervalMs: number; limits: BatchLimits; metrics: RetentionMetrics } {
  return {
    intervalMs: config.RETENTION_INTERVAL_SECONDS * 1000,
    limits: { batchSize: config.RETENTION_BATCH_SIZE, pauseMs: config.RETENTION_BATCH_PAUSE_MS, maxBatches: 100 },
    metrics,
  };
}

function createIdentity({ config, logger, database, keyEncryptionKey }: ModuleContext): IdentityModule {
  return createIdentityModule({
    db: database.db, logger,
    issuer: config.IDENTITY_ISSUER,
    audience: config.IDENTITY_AUDIENCE,
    keyEncryptionKey,
    accountEmails: {
      transport: emailTransportOf(config), from: config.EMAIL_FROM,
      linkBaseUrl: config.ACCOUNT_LINK_BASE_URL, intervalSeconds: config.ACCOUNT_EMAIL_INTERVAL_SECONDS,
    },
    previousKeyEncryptionKey: config.IDENTITY_KEY_ENCRYPTION_KEY_PREVIOUS,
    accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlDays: config.REFRESH_TOKEN_TTL_DAYS,
    keyRotationDays: config.SIGNING_KEY_ROTATION_DAYS,
    clockSkewSeconds: config.JWT_CLOCK_SKEW_SECONDS,
    loginThrottle: {
      failuresBeforeDelay: config.LOGIN_FAILURES_BEFORE_DELAY, maxDelaySeconds: config.LOGIN_MAX_DELAY_SECONDS,
      addressBudget: config.LOGIN_ADDRESS_BUDGET, addressWindowSeconds: config.LOGIN_ADDRESS_WINDOW_SECONDS,
      accountFailuresBeforeDelay: config.LOGIN_ACCOUNT_FAILURES_BEFORE_DELAY, accountMaxDelaySeconds: config.LOGIN_ACCOUNT_MAX_DELAY_SECONDS,
      forgetAfterSeconds: config.LOGIN_FORGET_AFTER_SECONDS,
    },
    externalIssuers: config.EXTERNAL_OIDC_ISSUERS,
    tokenCacheSize: config.ACCESS_TOKEN_CACHE_SIZE,
    // With Redis, revocations reach every gateway (and every process behind one load balancer) through it.
    ...(config.REDIS_URL === undefined ? {} : { revocationSharing: { redisUrl: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX } }),
    passwordHashing: {
      concurrency: config.PASSWORD_HASHING_CONCURRENCY, maxQueued: config.PASSWORD_HASHING_QUEUE, maxWaitMs: config.PASSWORD_HASHING_MAX_WAIT_MS,
    },
  });
}

function createOrders({ config, logger, metrics, database, catalog }: ModuleContext): OrdersModule {
  if (catalog === undefined) throw new Error('The orders module needs the catalog: run it in this process or set CATALOG_SERVICE_URL.');
  return createOrdersModule({
    db: database.db, logger,
    catalog,
    stepTimeoutMs: config.SAGA_STEP_TIMEOUT_MS,
    idempotencyTtlHours: config.IDEMPOTENCY_KEY_TTL_HOURS,
    idempotencyTakeoverSeconds: config.IDEMPOTENCY_TAKEOVER_SECONDS,
    backlogLimit: config.ORDER_BACKLOG_LIMIT,
    backlogSeconds: config.ORDER_BACKLOG_SECONDS,
    retention: retentionSettings(config, metrics),
    devIdentityHeaders: config.DEV_IDENTITY_HEADERS,
    metrics: orderMetricsOf(metrics),
  });
}

function createPayments({ config, logger, metrics, database, payments }: ModuleContext): PaymentsModule {
  return createPaymentsModule({
    db: database.db, logger,
    provider: config.PAYMENT_PROVIDER,
    simulatedDelayMs: config.SIMULATED_PAYMENT_DELAY_MS,
    metrics: paymentMetricsOf(metrics),
    ...(config.STRIPE_API_KEY === undefined ? {} : { stripeApiKey: config.STRIPE_API_KEY }),
    ...(config.STRIPE_API_BASE_URL === undefined ? {} : { stripeApiBaseUrl: config.STRIPE_API_BASE_URL }),
    ...(config.STRIPE_WEBHOOK_SECRET === undefined ? {} : { stripeWebhookSecret: config.STRIPE_WEBHOOK_SECRET }),
    retention: {
      providerCallSeconds: config.PAYMENT_CALL_RETENTION_DAYS * 86_400, webhookEventSeconds: config.WEBHOOK_EVENT_RETENTION_DAYS * 86_400,
      ...retentionSettings(config, metrics),
    },
    ...payments,
  });
}

function createJobs({ config, logger, metrics, database, catalog, inventory, orders, runJobWorkers, writersShareDatabase }: ModuleContext): JobsModule {
  if (catalog === undefined || inventory === undefined || orders === undefined) {
    throw new Error('The jobs module needs the catalog, inventory and orders: run them in this process or set CATALOG_SERVICE_URL, INVENTORY_SERVICE_URL and ORDERS_SERVICE_URL.');
  }
  return createJobsModule({
    db: database.db, logger, databaseUrl: database.url,
    documents: config.DOCUMENTS_STORE === 's3' && config.S3_BUCKET !== undefined
      ? {
        store: 's3', bucket: config.S3_BUCKET, prefix: config.S3_PREFIX, region: config.S3_REGION, forcePathStyle: config.S3_FORCE_PATH_STYLE,
        ...(config.S3_ENDPOINT === undefined ? {} : { endpoint: config.S3_ENDPOINT }),
      }
      : { store: 'filesystem', directory: config.DOCUMENTS_DIR },
    catalog,
    inventory,
    orders,
    exportPartSize: config.EXPORT_PART_SIZE,
    importChunksInOneTransaction: writersShareDatabase,
    devIdentityHeaders: config.DEV_IDENTITY_HEADERS,
    importMaxBytes: config.IMPORT_MAX_BYTES,
    jobConcurrency: config.JOB_CONCURRENCY,
    jobMaxAttempts: config.JOB_MAX_ATTEMPTS,
    jobRetryDelaySeconds: config.JOB_RETRY_DELAY_SECONDS,
    jobTimeoutSeconds: config.JOB_TIMEOUT_SECONDS,
    jobEvents: { pollMs: config.JOB_EVENTS_POLL_MS, maxStreams: config.JOB_EVENTS_MAX_STREAMS },
    jobQueueRetentionSeconds: config.JOB_QUEUE_RETENTION_HOURS * 3600,
    retention: { jobSeconds: config.JOB_RETENTION_DAYS * 86_400, ...retentionSettings(config, metrics) },
    invoiceSeller: config.INVOICE_SELLER,
    pdfRenderConcurrency: config.PDF_RENDER_CONCURRENCY,
    pdfRenderMaxWaitMs: config.PDF_RENDER_MAX_WAIT_MS,
    runWorkers: runJobWorkers,
    metrics: jobMetricsOf(metrics),
  });
}

/** How emails leave (EMAIL_TRANSPORT, SMTP_URL, EMAIL_OUTBOX_DIR): order emails and account emails alike. */
function emailTransportOf(config: Config): EmailTransportSettings {
  return config.EMAIL_TRANSPORT === 'smtp' && config.SMTP_URL !== undefined
    ? { transport: 'smtp', smtpUrl: config.SMTP_URL }
    : { transport: 'file', outboxDir: config.EMAIL_OUTBOX_DIR };
}
