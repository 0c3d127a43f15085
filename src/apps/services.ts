import type { Config } from '../platform/config/config.ts';
import { createDatabase, databaseReadiness, type Database } from '../platform/database/database.ts';
import { migrate } from '../platform/database/migrations.ts';
import { createHttpApp, type HttpApp } from '../platform/http/app.ts';
import type { ReadinessCheck } from '../platform/http/readiness.ts';
import { ServiceCaller } from '../platform/http/service-caller.ts';
import type { Logger } from '../platform/logging/logger.ts';
import { createMessaging, deadLetterRoutes, InProcessTransport, messagingMigrations, type MessageConsumer, type MessageTransport, type Messaging } from '../platform/messaging/index.ts';
import { auditMigrations, auditRoutes } from '../platform/audit/index.ts';
import { KafkaTransport } from '../platform/messaging/kafka-transport.ts';
import { createMetrics, type Metrics } from '../platform/observability/metrics.ts';
import { createOpsServer, type OpsServer } from '../platform/observability/ops-server.ts';
import { createCachedCatalogClient, createCatalogHttpClient, type CatalogClient, type CatalogImportClient, type RedisCachedCatalogClient } from '../modules/catalog/index.ts';
import { createInventoryHttpClient, type InventoryClient } from '../modules/inventory/index.ts';
import { createOrdersExportHttpClient, type OrdersExportClient } from '../modules/orders/index.ts';
import { asyncApiRoutes } from './asyncapi.ts';
import { routePolicies } from './gateway/route-policies.ts';
import { gatewayTrustSettings } from './edge-wiring.ts';
import { moduleFactories } from './module-factories.ts';
import { consumingModules, databaseVariableOf, isModuleName, moduleNames, type ModuleName } from './module-registry.ts';
import { createModules, databaseSettings, messagingRetention, messagingRetryLeaseMs, partsOf, type ModuleSet } from './modules.ts';
import { requireServicesConfiguration } from './services-configuration.ts';

/**
 * The roles of the services shape besides the gateway: one per module of the registry. (The document
 * jobs service is `jobs`: `worker` already names the single process's HTTP-less half, see decision 0009.)
 */
export const serviceRoles: readonly ModuleName[] = moduleNames;
export type ServiceRole = ModuleName;

/**
 * The databases `roles` would use, each once, with the variable that named it (the role's own, else
 * DATABASE_URL), so a start can check them first; a role with neither is left for createServices to report.
 */
export function serviceDatabaseUrls(config: Config, roles: readonly ServiceRole[]): { variable: string; url: string }[] {
  const byUrl = new Map<string, string>();
  for (const role of roles) {
    const own = config[databaseVariableOf(role)];
    const [variable, url] = own === undefined ? ['DATABASE_URL', config.DATABASE_URL] : [databaseVariableOf(role), own];
    if (url !== undefined && !byUrl.has(url)) byUrl.set(url, variable);
  }
  return [...byUrl].map(([url, variable]) => ({ variable, url }));
}

export function isServiceRole(role: string): role is ServiceRole {
  return isModuleName(role);
}

/**
 * Every database of the process once, for the table-size gauges, labelled with the module it serves
 * (the modules joined by `+` when roles of this process share one database).
 */
export function tableSizeSources(databases: ReadonlyMap<ModuleName, { db: Database; url: string }>): { database: string; db: Database }[] {
  const byUrl = new Map<string, { modules: ModuleName[]; db: Database }>();
  for (const [name, { db, url }] of databases) {
    const entry = byUrl.get(url);
    if (entry === undefined) byUrl.set(url, { modules: [name], db });
    else entry.modules.push(name);
  }
  return [...byUrl.values()].map(({ modules, db }) => ({ database: modules.join('+'), db }));
}

/** One process of the services shape: some roles, each on its own database, behind the gateway. */
export interface ServicesProcess {
  roles: readonly ServiceRole[];
  app: HttpApp;
  modules: ModuleSet;
  /** Each role's database, by module. */
  databases: ReadonlyMap<ModuleName, Database>;
  metrics: Metrics;
  ops: OpsServer;
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The services-shape composition root: the same modules as the single process, each on the
 * database its own variable names (`ORDERS_DATABASE_URL`, else DATABASE_URL), migrating only its
 * schema and messaging's; messages through Kafka (KAFKA_BROKERS); the catalog and inventory
 * clients over HTTP when those services run elsewhere; requests accepted only as the gateway (or
 * a service) signed them. Returns the app without listening.
 */
export async function createServices(options: {
  config: Config;
  logger: Logger;
  roles: readonly ServiceRole[];
  keyEncryptionKey: string;
  /** Tests may pass a transport; otherwise Kafka when KAFKA_BROKERS is set. */
  transport?: MessageTransport;
}): Promise<ServicesProcess> {
  const { config, logger } = options;
  const roles = [...new Set(options.roles)];
  const secret = requireServicesConfiguration(config, roles, { transportGiven: options.transport !== undefined });
  const transport: MessageTransport = options.transport ?? transportOf(config, roles, logger);

  const metrics = createMetrics({ logger });
  const { databases, messagingOf } = await openDatabases(config, roles, transport, logger, metrics);
  const { callers, catalogCache, remote } = remoteClients(config, logger, roles, secret);
  const modules = createModules({
    config, logger, metrics, keyEncryptionKey: options.keyEncryptionKey,
    databases: Object.fromEntries(databases),
    remote,
    runJobWorkers: true,
  });

  registerConsumers(modules, messagingOf, catalogCache === undefined ? undefined : catalogCache.invalidationConsumer(`${roles.join('+')}.catalog-cache`));
  const parts = partsOf(modules);
  const messagings = [...messagingOf.values()];
  const background = parts.flatMap((part) => part.background);
  const readiness = observe({ databases, transport, metrics, modules });
  const ops = createOpsServer({ metrics, readiness, logger });
  const app = createHttpApp({
    logger,
    title: `OrderStream ${roles.join(', ')}`,
    bodyLimit: Math.max(config.BODY_LIMIT_BYTES, config.IMPORT_MAX_BYTES),
    routes: [
      ...parts.flatMap((part) => (part.routes === undefined ? [] : [part.routes])),
      asyncApiRoutes(),
      ...[...databases].filter(([name]) => consumingModules.includes(name)).map(([name, { db }]) => deadLetterRoutes(db, name)),
      // Each service answers for the administrative acts recorded in its own database.
      ...[...databases].map(([name, { db }]) => auditRoutes(db, name)),
    ],
    readiness,
    metrics,
    trustProxy: config.TRUST_PROXY,
    gatewayTrust: gatewayTrustSettings(config, secret, routePolicies),
  });

  let started = false;
  return {
    roles, app, modules, metrics, ops,
    databases: new Map([...databases].map(([name, { db }]) => [name, db])),
    async start() {
      await Promise.all(messagings.map((messaging) => messaging.start()));
      if (transport instanceof KafkaTransport) await transport.ready();
      for (const task of background) task.start();
      started = true;
      await modules.jobs?.whenReady();
    },
    async close() {
      await app.close();
      await ops.close();
      if (started) {
        await Promise.all(background.map((task) => task.stop()));
        await Promise.all(messagings.map((messaging) => messaging.stop()));
      }
      await transport.close();
      await Promise.all(callers.map((created) => created.close()));
      await catalogCache?.close();
      await modules.identity?.close();
      await Promise.all([...databases.values()].map(({ db }) => db.destroy()));
    },
  };
}

/**
 * Each role's database, migrated with its module's schema and messaging's, and the messaging that
 * works on it (inbox, retries, dead letters there). On a failure, the pools opened so far are closed.
 */
async function openDatabases(config: Config, names: readonly ModuleName[], transport: MessageTransport, logger: Logger, metrics: Metrics): Promise<{
  databases: Map<ModuleName, { db: Database; url: string }>; messagingOf: Map<ModuleName, Messaging>;
}> {
  const databases = new Map<ModuleName, { db: Database; url: string }>();
  const messagingOf = new Map<ModuleName, Messaging>();
  try {
    for (const name of names) {
      const url = config[databaseVariableOf(name)] ?? config.DATABASE_URL ?? '';
      const db = createDatabase({ url, poolSize: config.DATABASE_POOL_SIZE, ...databaseSettings(config) });
      databases.set(name, { db, url });
      await migrate(db, [messagingMigrations, auditMigrations, moduleFactories[name].migrations], logger);
      messagingOf.set(name, createMessaging({
        db, transport, logger, metrics,
        retryPolicy: { maxAttempts: config.MESSAGE_MAX_ATTEMPTS, baseDelayMs: config.MESSAGE_RETRY_BASE_MS },
        pollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS,
        listenUrl: url,
        // Several instances of a service share its database, and the relay leading may be another's.
        notify: 'postgres',
        retention: messagingRetention(config, metrics),
        retryLeaseMs: messagingRetryLeaseMs(config),
      }));
    }
  } catch (error) {
    await Promise.all([...databases.values()].map(({ db }) => db.destroy()));
    throw error;
  }
  return { databases, messagingOf };
}

/** The catalog, inventory and orders over HTTP, for the roles here that need them when those services run elsewhere. */
function remoteClients(config: Config, logger: Logger, roles: readonly ServiceRole[], secret: string): {
  callers: ServiceCaller[]; catalogCache: RedisCachedCatalogClient | undefined;
  remote: { catalog?: CatalogClient & CatalogImportClient; inventory?: InventoryClient; orders?: OrdersExportClient };
} {
  const callers: ServiceCaller[] = [];
  const caller = (service: string, instances: string | undefined, timeoutMs?: number): ServiceCaller | undefined => {
    if (instances === undefined) return undefined;
    const created = new ServiceCaller({
      service, instances: instances.split(','), secret, previousSecret: config.GATEWAY_SECRET_PREVIOUS, caller: roles.join('+'),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    });
    callers.push(created);
    return created;
  };
  const needsCatalog = (roles.includes('orders') || roles.includes('jobs')) && !roles.includes('catalog');
  const needsInventory = roles.includes('jobs') && !roles.includes('inventory');
  const catalogCaller = needsCatalog ? caller('catalog', config.CATALOG_SERVICE_URL) : undefined;
  const inventoryCaller = needsInventory ? caller('inventory', config.INVENTORY_SERVICE_URL) : undefined;
  // An export page holds up to 5,000 orders: more time than a lookup's default.
  const ordersCaller = roles.includes('jobs') && !roles.includes('orders') ? caller('orders', config.ORDERS_SERVICE_URL, 30_000) : undefined;
  // With Redis, product lookups of a remote catalog go through a cache the catalog's own events invalidate.
  const remoteCatalog = catalogCaller === undefined ? undefined : createCatalogHttpClient(catalogCaller);
  const catalogCache: RedisCachedCatalogClient | undefined = remoteCatalog === undefined || config.REDIS_URL === undefined
    ? undefined
    : createCachedCatalogClient({ client: remoteCatalog, url: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX, ttlSeconds: config.CATALOG_CACHE_TTL_SECONDS, logger });
  return {
    callers, catalogCache,
    remote: {
      ...(remoteCatalog === undefined ? {} : { catalog: catalogCache ?? remoteCatalog }),
      ...(inventoryCaller === undefined ? {} : { inventory: createInventoryHttpClient(inventoryCaller) }),
      ...(ordersCaller === undefined ? {} : { orders: createOrdersExportHttpClient(ordersCaller) }),
    },
  };
}

/**
 * Each module's consumers join the messaging of its own database; the remote catalog's cache
 * invalidation joins that of the module it serves (orders, else jobs).
 */
function registerConsumers(modules: ModuleSet, messagingOf: ReadonlyMap<ModuleName, Messaging>, cacheInvalidation: MessageConsumer | undefined): void {
  for (const [name, messaging] of messagingOf) {
    for (const consumer of modules[name]?.consumers ?? []) messaging.register(consumer);
  }
  const cacheUser = [...messagingOf.keys()].find((name) => name === 'orders' || name === 'jobs');
  const cacheMessaging = cacheUser === undefined ? undefined : messagingOf.get(cacheUser);
  if (cacheInvalidation !== undefined && cacheMessaging !== undefined) cacheMessaging.register(cacheInvalidation);
}

/** What `/readyz` checks (each database, Kafka when used), after pointing the metrics at the databases, the job queues and the consumer lag. */
function observe(options: {
  databases: ReadonlyMap<ModuleName, { db: Database; url: string }>; transport: MessageTransport; metrics: Metrics; modules: ModuleSet;
}): ReadinessCheck[] {
  const { databases, transport, metrics, modules } = options;
  const firstDatabase = [...databases.values()][0]?.db;
  if (firstDatabase !== undefined) {
    metrics.readFrom({
      database: firstDatabase,
      tableSizes: tableSizeSources(databases),
      ...(modules.jobs === undefined ? {} : { jobQueues: () => modules.jobs?.queueDepths() ?? Promise.resolve([]) }),
      ...(transport.lag === undefined ? {} : { consumerLag: () => transport.lag?.() ?? Promise.resolve([]) }),
    });
  }
  return [
    ...[...databases].map(([name, { db }]) => ({ name: `${name}-database`, check: () => databaseReadiness(db, 2000) })),
    ...(transport.isReachable === undefined ? [] : [{ name: 'kafka', check: () => transport.isReachable?.() ?? Promise.resolve(true) }]),
  ];
}

/** Kafka when KAFKA_BROKERS is set; in-process only when every role runs in this one process. */
function transportOf(config: Config, roles: readonly ServiceRole[], logger: Logger): MessageTransport {
  return config.KAFKA_BROKERS === undefined
    ? new InProcessTransport({ concurrency: config.MESSAGE_DELIVERY_CONCURRENCY })
    : new KafkaTransport({ brokers: config.KAFKA_BROKERS.split(','), clientId: `orderstream-${roles.join('-')}`, partitions: config.KAFKA_TOPIC_PARTITIONS, logger,
      ...(config.KAFKA_NAMESPACE === undefined ? {} : { namespace: config.KAFKA_NAMESPACE }),
    });
}
