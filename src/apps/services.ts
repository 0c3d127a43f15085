import type { Config } from '../platform/config/config.ts';
import { createDatabase, databaseReadiness, type Database } from '../platform/database/database.ts';
import { migrate } from '../platform/database/migrations.ts';
import { createHttpApp, type HttpApp } from '../platform/http/app.ts';
import type { ReadinessCheck } from '../platform/http/readiness.ts';
import { ServiceCaller } from '../platform/http/service-caller.ts';
import type { Logger } from '../platform/logging/logger.ts';
import { createMessaging, deadLetterRoutes, InProcessTransport, messagingMigrations, type MessageTransport, type Messaging } from '../platform/messaging/index.ts';
import { auditMigrations, auditRoutes } from '../platform/audit/index.ts';
import { KafkaTransport } from '../platform/messaging/kafka-transport.ts';
import { createMetrics, type Metrics } from '../platform/observability/metrics.ts';
import { createOpsServer, type OpsServer } from '../platform/observability/ops-server.ts';
import { createCachedCatalogClient, createCatalogHttpClient, type RedisCachedCatalogClient } from '../modules/catalog/index.ts';
import { createInventoryHttpClient } from '../modules/inventory/index.ts';
import { consumingModules, routePolicies } from './gateway/route-policies.ts';
import { gatewayTrustSettings } from './edge-wiring.ts';
import { createModules, databaseSettings, messagingRetention, messagingRetryLeaseMs, moduleMigrations, partsOf, type ModuleName, type ModuleSet } from './modules.ts';

/**
 * The roles of the services shape besides the gateway, one per module. (The document jobs service
 * is `jobs`: `worker` already names the single process's HTTP-less half, see decision 0009.)
 */
export const serviceRoles = ['identity', 'catalog', 'inventory', 'orders', 'payments', 'notifications', 'jobs'] as const;
export type ServiceRole = (typeof serviceRoles)[number];

type DatabaseVariable = `${'IDENTITY' | 'CATALOG' | 'INVENTORY' | 'ORDERS' | 'PAYMENTS' | 'NOTIFICATIONS' | 'JOBS'}_DATABASE_URL`;

const databaseVariable: Readonly<Record<ModuleName, DatabaseVariable>> = {
  identity: 'IDENTITY_DATABASE_URL', catalog: 'CATALOG_DATABASE_URL', inventory: 'INVENTORY_DATABASE_URL', orders: 'ORDERS_DATABASE_URL',
  payments: 'PAYMENTS_DATABASE_URL', notifications: 'NOTIFICATIONS_DATABASE_URL', jobs: 'JOBS_DATABASE_URL',
};

/**
 * The databases `roles` would use, each once, with the variable that named it (the role's own, else
 * DATABASE_URL), so a start can check them first; a role with neither is left for createServices to report.
 */
export function serviceDatabaseUrls(config: Config, roles: readonly ServiceRole[]): { variable: string; url: string }[] {
  const byUrl = new Map<string, string>();
  for (const role of roles) {
    const own = config[databaseVariable[role]];
    const [variable, url] = own === undefined ? ['DATABASE_URL', config.DATABASE_URL] : [databaseVariable[role], own];
    if (url !== undefined && !byUrl.has(url)) byUrl.set(url, variable);
  }
  return [...byUrl].map(([url, variable]) => ({ variable, url }));
}

export function isServiceRole(role: string): role is ServiceRole {
  return (serviceRoles as readonly string[]).includes(role);
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
  const secret = config.GATEWAY_SECRET;
  if (secret === undefined) throw new Error('Service roles run behind the gateway: set GATEWAY_SECRET (the same as the gateway\'s).');
  const names: ModuleName[] = roles;
  const missing = names.filter((name) => (config[databaseVariable[name]] ?? config.DATABASE_URL) === undefined);
  if (missing.length > 0) throw new Error(`Set ${missing.map((name) => databaseVariable[name]).join(', ')} (or DATABASE_URL): a service never starts an embedded database.`);
  const everyRoleHere = serviceRoles.every((role) => roles.includes(role));
  if (options.transport === undefined && config.KAFKA_BROKERS === undefined && !everyRoleHere) {
    throw new Error('Services in separate processes talk through Kafka: set KAFKA_BROKERS.');
  }
  const transport: MessageTransport = options.transport ?? (config.KAFKA_BROKERS === undefined
    ? new InProcessTransport({ concurrency: config.MESSAGE_DELIVERY_CONCURRENCY })
    : new KafkaTransport({ brokers: config.KAFKA_BROKERS.split(','), clientId: `orderstream-${roles.join('-')}`, partitions: config.KAFKA_TOPIC_PARTITIONS, logger,
      ...(config.KAFKA_NAMESPACE === undefined ? {} : { namespace: config.KAFKA_NAMESPACE }),
    }));

  const metrics = createMetrics({ logger });
  const databases = new Map<ModuleName, { db: Database; url: string }>();
  const messagings: Messaging[] = [];
  const callers: ServiceCaller[] = [];
  try {
    for (const name of names) {
      const url = config[databaseVariable[name]] ?? config.DATABASE_URL ?? '';
      const db = createDatabase({ url, poolSize: config.DATABASE_POOL_SIZE, ...databaseSettings(config) });
      databases.set(name, { db, url });
      await migrate(db, [messagingMigrations, auditMigrations, moduleMigrations[name]], logger);
      messagings.push(createMessaging({
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

  const caller = (service: string, instances: string | undefined): ServiceCaller | undefined => {
    if (instances === undefined) return undefined;
    const created = new ServiceCaller({ service, instances: instances.split(','), secret, previousSecret: config.GATEWAY_SECRET_PREVIOUS, caller: roles.join('+') });
    callers.push(created);
    return created;
  };
  const needsCatalog = (names.includes('orders') || names.includes('jobs')) && !names.includes('catalog');
  const needsInventory = names.includes('jobs') && !names.includes('inventory');
  const catalogCaller = needsCatalog ? caller('catalog', config.CATALOG_SERVICE_URL) : undefined;
  const inventoryCaller = needsInventory ? caller('inventory', config.INVENTORY_SERVICE_URL) : undefined;
  // With Redis, product lookups of a remote catalog go through a cache the catalog's own events invalidate.
  const remoteCatalog = catalogCaller === undefined ? undefined : createCatalogHttpClient(catalogCaller);
  const catalogCache: RedisCachedCatalogClient | undefined = remoteCatalog === undefined || config.REDIS_URL === undefined
    ? undefined
    : createCachedCatalogClient({ client: remoteCatalog, url: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX, ttlSeconds: config.CATALOG_CACHE_TTL_SECONDS, logger });
  const modules = createModules({
    config, logger, metrics, keyEncryptionKey: options.keyEncryptionKey,
    databases: Object.fromEntries(databases),
    remote: {
      ...(remoteCatalog === undefined ? {} : { catalog: catalogCache ?? remoteCatalog }),
      ...(inventoryCaller === undefined ? {} : { inventory: createInventoryHttpClient(inventoryCaller) }),
    },
    runJobWorkers: true,
  });

  // Each module's consumers join the messaging of its own database (inbox, retries, dead letters there).
  const parts = partsOf(modules);
  const messagingOf = new Map(names.map((name, index) => [name, messagings[index]]));
  for (const name of names) {
    const module = modules[name];
    const messaging = messagingOf.get(name);
    if (module === undefined || messaging === undefined || !('consumers' in module)) continue;
    for (const consumer of module.consumers) messaging.register(consumer);
  }
  const cacheUser = names.find((name) => name === 'orders' || name === 'jobs');
  const cacheMessaging = cacheUser === undefined ? undefined : messagingOf.get(cacheUser);
  if (catalogCache !== undefined && cacheMessaging !== undefined) cacheMessaging.register(catalogCache.invalidationConsumer(`${roles.join('+')}.catalog-cache`));
  const background = parts.flatMap((part) => part.background);
  const readiness: ReadinessCheck[] = [
    ...[...databases].map(([name, { db }]) => ({ name: `${name}-database`, check: () => databaseReadiness(db, 2000) })),
    ...(transport.isReachable === undefined ? [] : [{ name: 'kafka', check: () => transport.isReachable?.() ?? Promise.resolve(true) }]),
  ];
  const firstDatabase = [...databases.values()][0]?.db;
  if (firstDatabase !== undefined) {
    metrics.readFrom({
      database: firstDatabase,
      tableSizes: tableSizeSources(databases),
      ...(modules.jobs === undefined ? {} : { jobQueues: () => modules.jobs?.queueDepths() ?? Promise.resolve([]) }),
      ...(transport.lag === undefined ? {} : { consumerLag: () => transport.lag?.() ?? Promise.resolve([]) }),
    });
  }
  const ops = createOpsServer({ metrics, readiness, logger });
  const app = createHttpApp({
    logger,
    title: `OrderStream ${roles.join(', ')}`,
    bodyLimit: Math.max(config.BODY_LIMIT_BYTES, config.IMPORT_MAX_BYTES),
    routes: [
      ...parts.flatMap((part) => (part.routes === undefined ? [] : [part.routes])),
      ...[...databases].filter(([name]) => (consumingModules as readonly string[]).includes(name)).map(([name, { db }]) => deadLetterRoutes(db, name)),
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
