import type { BackgroundTask } from '../platform/background/background-loop.ts';
import type { Config } from '../platform/config/config.ts';
import type { Database, DatabaseLimits } from '../platform/database/database.ts';
import type { EmailTransportSettings } from '../platform/email/index.ts';
import type { MigrationSet } from '../platform/database/migrations.ts';
import type { RouteRegistration } from '../platform/http/app.ts';
import type { Logger } from '../platform/logging/logger.ts';
import type { BatchLimits, RetentionMetrics } from '../platform/database/retention-sweeper.ts';
import { retryLeaseMs, type MessageConsumer, type MessagingRetention } from '../platform/messaging/index.ts';
import type { Metrics } from '../platform/observability/metrics.ts';
import { catalogMigrations, createCatalogModule, type CatalogClient, type CatalogImportClient, type CatalogModule } from '../modules/catalog/index.ts';
import { createIdentityModule, identityMigrations, type IdentityModule } from '../modules/identity/index.ts';
import { createInventoryModule, inventoryMigrations, type InventoryClient, type InventoryModule } from '../modules/inventory/index.ts';
import { createJobsModule, jobsMigrations, type JobsModule } from '../modules/jobs/index.ts';
import { createNotificationsModule, notificationsMigrations, type NotificationsModule } from '../modules/notifications/index.ts';
import { createOrdersModule, ordersMigrations, type OrdersModule } from '../modules/orders/index.ts';
import { createPaymentsModule, paymentsMigrations, type PaymentsModule, type PaymentsTestOverrides } from '../modules/payments/index.ts';
import { jobMetricsOf, orderMetricsOf, paymentMetricsOf } from './module-metrics.ts';

export type ModuleName = 'identity' | 'catalog' | 'inventory' | 'payments' | 'orders' | 'notifications' | 'jobs';

/** Each module's migrations; a database holds those of the modules it serves, plus messaging's. */
export const moduleMigrations: Readonly<Record<ModuleName, MigrationSet>> = {
  identity: identityMigrations,
  catalog: catalogMigrations,
  inventory: inventoryMigrations,
  payments: paymentsMigrations,
  orders: ordersMigrations,
  notifications: notificationsMigrations,
  jobs: jobsMigrations,
};

/** How every pooled database connection of a process is bounded (DATABASE_* variables). */
export function databaseSettings(config: Config): { limits: DatabaseLimits; nestingGuard: boolean } {
  return {
    limits: {
      acquireTimeoutMs: config.DATABASE_ACQUIRE_TIMEOUT_MS,
      statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
      lockTimeoutMs: config.DATABASE_LOCK_TIMEOUT_MS,
      idleInTransactionTimeoutMs: config.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    },
    nestingGuard: config.DATABASE_NESTING_GUARD,
  };
}

/** How retention sweepers run (RETENTION_* variables), for messaging and for each module that prunes its tables. */
export function retentionSettings(config: Config, metrics: RetentionMetrics): { intervalMs: number; limits: BatchLimits; metrics: RetentionMetrics } {
  return {
    intervalMs: config.RETENTION_INTERVAL_SECONDS * 1000,
    limits: { batchSize: config.RETENTION_BATCH_SIZE, pauseMs: config.RETENTION_BATCH_PAUSE_MS, maxBatches: 100 },
    metrics,
  };
}

/** How long a claimed message retry stays with its process: always longer than one attempt can take under DATABASE_STATEMENT_TIMEOUT_MS. */
export function messagingRetryLeaseMs(config: Config): number {
  return retryLeaseMs(config.DATABASE_STATEMENT_TIMEOUT_MS);
}

/**
 * How a commit that wrote outbox rows wakes the relay in the single process: in-process when this
 * process is the only one on its database (`--role all`); NOTIFY for the api and worker roles,
 * which share one and must wake each other's relay.
 */
export function outboxNotifyOf(config: Config, role: 'all' | 'api' | 'worker'): 'in-process' | 'postgres' {
  if (config.OUTBOX_NOTIFY !== 'auto') return config.OUTBOX_NOTIFY;
  return role === 'all' ? 'in-process' : 'postgres';
}

/** What the messaging tables of every database keep, and for how long (docs/operations.md, Retention). */
export function messagingRetention(config: Config, metrics: RetentionMetrics): MessagingRetention {
  return { outboxSeconds: config.OUTBOX_RETENTION_MINUTES * 60, inboxSeconds: config.INBOX_RETENTION_HOURS * 3600, ...retentionSettings(config, metrics) };
}

/** The modules one process runs, each built on its own database (the same one in the single process). */
export interface ModuleSet {
  identity?: IdentityModule;
  catalog?: CatalogModule;
  inventory?: InventoryModule;
  payments?: PaymentsModule;
  orders?: OrdersModule;
  notifications?: NotificationsModule;
  jobs?: JobsModule;
}

/** What a module contributes to its process, whichever module it is. */
export interface ModuleParts {
  routes?: RouteRegistration;
  consumers: readonly MessageConsumer[];
  background: readonly BackgroundTask[];
}

/**
 * Builds the modules named in `databases` from configuration: the one place where settings become
 * module options, shared by the single process and the services shape. A module that needs another
 * module's client gets it in-process when that module is built here, else from `remote` (HTTP).
 */
export function createModules(options: {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  /** Encrypts identity's stored signing keys. */
  keyEncryptionKey: string;
  databases: Partial<Record<ModuleName, { db: Database; url: string }>>;
  remote?: { catalog?: CatalogClient & CatalogImportClient; inventory?: InventoryClient };
  /** Run the document job workers in this process (not in an api-only process). */
  runJobWorkers: boolean;
  /** Tests replace the payment provider (one that fails on demand) and shorten its retries. */
  payments?: PaymentsTestOverrides;
}): ModuleSet {
  const { config, logger, metrics, databases } = options;
  const modules: ModuleSet = {};
  if (databases.identity !== undefined) {
    modules.identity = createIdentityModule({
      db: databases.identity.db, logger,
      issuer: config.IDENTITY_ISSUER,
      audience: config.IDENTITY_AUDIENCE,
      keyEncryptionKey: options.keyEncryptionKey,
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
  if (databases.catalog !== undefined) {
    modules.catalog = createCatalogModule({
      db: databases.catalog.db, readCacheSeconds: config.CATALOG_READ_CACHE_SECONDS,
      lowStockThreshold: config.LOW_STOCK_THRESHOLD, devIdentityHeaders: config.DEV_IDENTITY_HEADERS,
    });
  }
  if (databases.inventory !== undefined) {
    modules.inventory = createInventoryModule({ db: databases.inventory.db, logger, reservationTtlSeconds: config.RESERVATION_TTL_SECONDS });
  }
  const catalogClient = modules.catalog?.client ?? options.remote?.catalog;
  const inventoryClient = modules.inventory?.client ?? options.remote?.inventory;
  if (databases.payments !== undefined) {
    modules.payments = createPaymentsModule({
      db: databases.payments.db, logger,
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
      ...options.payments,
    });
  }
  if (databases.orders !== undefined) {
    if (catalogClient === undefined) throw new Error('The orders module needs the catalog: run it in this process or set CATALOG_SERVICE_URL.');
    modules.orders = createOrdersModule({
      db: databases.orders.db, logger,
      catalog: catalogClient,
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
  if (databases.notifications !== undefined) {
    modules.notifications = createNotificationsModule({
      db: databases.notifications.db, logger,
      email: emailTransportOf(config),
      emailFrom: config.EMAIL_FROM,
      maxAttempts: config.NOTIFICATION_MAX_ATTEMPTS,
      retryBaseMs: config.NOTIFICATION_RETRY_BASE_MS,
      webhookTimeoutMs: config.WEBHOOK_TIMEOUT_MS,
      webhookAllowedNetworks: config.WEBHOOK_ALLOWED_NETWORKS ?? [],
    });
  }
  if (databases.jobs !== undefined) {
    if (catalogClient === undefined || inventoryClient === undefined) {
      throw new Error('The jobs module needs the catalog and inventory: run them in this process or set CATALOG_SERVICE_URL and INVENTORY_SERVICE_URL.');
    }
    modules.jobs = createJobsModule({
      db: databases.jobs.db, logger, databaseUrl: databases.jobs.url,
      documents: config.DOCUMENTS_STORE === 's3' && config.S3_BUCKET !== undefined
        ? {
          store: 's3', bucket: config.S3_BUCKET, prefix: config.S3_PREFIX, region: config.S3_REGION, forcePathStyle: config.S3_FORCE_PATH_STYLE,
          ...(config.S3_ENDPOINT === undefined ? {} : { endpoint: config.S3_ENDPOINT }),
        }
        : { store: 'filesystem', directory: config.DOCUMENTS_DIR },
      catalog: catalogClient,
      inventory: inventoryClient,
      devIdentityHeaders: config.DEV_IDENTITY_HEADERS,
      importMaxBytes: config.IMPORT_MAX_BYTES,
      jobConcurrency: config.JOB_CONCURRENCY,
      jobMaxAttempts: config.JOB_MAX_ATTEMPTS,
      jobRetryDelaySeconds: config.JOB_RETRY_DELAY_SECONDS,
      jobTimeoutSeconds: config.JOB_TIMEOUT_SECONDS,
      jobQueueRetentionSeconds: config.JOB_QUEUE_RETENTION_HOURS * 3600,
      retention: { jobSeconds: config.JOB_RETENTION_DAYS * 86_400, ...retentionSettings(config, metrics) },
      invoiceSeller: config.INVOICE_SELLER,
      pdfRenderConcurrency: config.PDF_RENDER_CONCURRENCY,
      pdfRenderMaxWaitMs: config.PDF_RENDER_MAX_WAIT_MS,
      runWorkers: options.runJobWorkers,
      metrics: jobMetricsOf(metrics),
    });
  }
  const workLimiters = [...(modules.identity?.workLimiters ?? []), ...(modules.jobs?.workLimiters ?? [])];
  metrics.readFrom({ workLimiters: () => workLimiters.map((limiter) => limiter.stats()) });
  return modules;
}

/** How emails leave (EMAIL_TRANSPORT, SMTP_URL, EMAIL_OUTBOX_DIR): order emails and account emails alike. */
function emailTransportOf(config: Config): EmailTransportSettings {
  return config.EMAIL_TRANSPORT === 'smtp' && config.SMTP_URL !== undefined
    ? { transport: 'smtp', smtpUrl: config.SMTP_URL }
    : { transport: 'file', outboxDir: config.EMAIL_OUTBOX_DIR };
}

/** Each built module's routes, consumers and background work, in a fixed order. */
export function partsOf(modules: ModuleSet): ModuleParts[] {
  const { identity, catalog, inventory, payments, orders, notifications, jobs } = modules;
  const parts: ModuleParts[] = [];
  if (catalog !== undefined) parts.push({ routes: catalog.routes, consumers: catalog.consumers, background: [] });
  for (const module of [identity, inventory, payments, orders, notifications, jobs]) {
    if (module !== undefined) parts.push({ routes: module.routes, consumers: module.consumers, background: module.background });
  }
  return parts;
}
