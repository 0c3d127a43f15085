import type { BackgroundTask } from '../platform/background/background-loop.ts';
import type { Config } from '../platform/config/config.ts';
import type { Database, DatabaseLimits } from '../platform/database/database.ts';
import type { RouteRegistration } from '../platform/http/app.ts';
import type { Logger } from '../platform/logging/logger.ts';
import type { RetentionMetrics } from '../platform/database/retention-sweeper.ts';
import { retryLeaseMs, type MessageConsumer, type MessagingRetention } from '../platform/messaging/index.ts';
import type { Metrics } from '../platform/observability/metrics.ts';
import type { CatalogClient, CatalogImportClient } from '../modules/catalog/index.ts';
import type { InventoryClient } from '../modules/inventory/index.ts';
import type { OrdersExportClient } from '../modules/orders/index.ts';
import type { PaymentsTestOverrides } from '../modules/payments/index.ts';
import { moduleFactories, retentionSettings, type ModuleTypes } from './module-factories.ts';
import { moduleNames, type ModuleName } from './module-registry.ts';

/** How every pooled database connection of a process is bounded (DATABASE_* variables). */
export function databaseSettings(config: Config): { limits: DatabaseLimits; nestingGuard: boolean; preparedStatements: boolean } {
  return {
    limits: {
      acquireTimeoutMs: config.DATABASE_ACQUIRE_TIMEOUT_MS,
      statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
      lockTimeoutMs: config.DATABASE_LOCK_TIMEOUT_MS,
      idleInTransactionTimeoutMs: config.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    },
    nestingGuard: config.DATABASE_NESTING_GUARD,
    preparedStatements: config.DATABASE_PREPARED_STATEMENTS,
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
export type ModuleSet = { [Name in ModuleName]?: ModuleTypes[Name] };

/** What a module contributes to its process, whichever module it is. */
export interface ModuleParts {
  routes?: RouteRegistration;
  consumers: readonly MessageConsumer[];
  background: readonly BackgroundTask[];
}

/**
 * Builds the modules named in `databases` from configuration, in registry order, each by its factory
 * (module-factories.ts). A module that needs another module's client gets it in-process when that
 * module is built here (the registry lists the catalog and inventory before their callers), else
 * from `remote` (HTTP).
 */
export function createModules(options: {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  /** Encrypts identity's stored signing keys. */
  keyEncryptionKey: string;
  databases: Partial<Record<ModuleName, { db: Database; url: string }>>;
  remote?: { catalog?: CatalogClient & CatalogImportClient; inventory?: InventoryClient; orders?: OrdersExportClient };
  /** Run the document job workers in this process (not in an api-only process). */
  runJobWorkers: boolean;
  /** Tests replace the payment provider (one that fails on demand) and shorten its retries. */
  payments?: PaymentsTestOverrides;
}): ModuleSet {
  const { config, logger, metrics, databases } = options;
  const modules: ModuleSet = {};
  const build = <Name extends ModuleName>(name: Name, database: { db: Database; url: string }): ModuleTypes[Name] => {
    const module = moduleFactories[name].create({
      config, logger, metrics, keyEncryptionKey: options.keyEncryptionKey, database,
      catalog: modules.catalog?.client ?? options.remote?.catalog,
      inventory: modules.inventory?.client ?? options.remote?.inventory,
      orders: modules.orders?.exportClient ?? options.remote?.orders,
      writersShareDatabase: modules.catalog !== undefined && modules.inventory !== undefined
        && databases.catalog?.db === database.db && databases.inventory?.db === database.db,
      runJobWorkers: options.runJobWorkers,
      payments: options.payments,
    });
    modules[name] = module;
    return module;
  };
  for (const name of moduleNames) {
    const database = databases[name];
    if (database !== undefined) build(name, database);
  }
  const workLimiters = [...(modules.identity?.workLimiters ?? []), ...(modules.jobs?.workLimiters ?? [])];
  metrics.readFrom({ workLimiters: () => workLimiters.map((limiter) => limiter.stats()) });
  return modules;
}

/** Each built module's routes, consumers and background work, in registry order. */
export function partsOf(modules: ModuleSet): ModuleParts[] {
  return moduleNames.flatMap((name): ModuleParts[] => {
    const module = modules[name];
    if (module === undefined) return [];
    return [{ routes: module.routes, consumers: module.consumers, background: 'background' in module ? module.background : [] }];
  });
}
