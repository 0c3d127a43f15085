import { resolveKeyEncryptionKey } from '../apps/key-encryption-key.ts';
import { databaseVariableOf, moduleNames } from '../apps/module-registry.ts';
import type { ServiceRole } from '../apps/services.ts';
import { ConfigError, type Config } from '../platform/config/config.ts';
import type { Logger } from '../platform/logging/logger.ts';
import { checkConfiguredDatabases } from './database.ts';
import { takeSignals } from './lifecycle.ts';
import { listen } from './listeners.ts';

/**
 * The configuration mistakes that keep `roles` from running as services, first one first, in the
 * words createServices would refuse them with; checked before it so that each is reported as the
 * configuration mistake it is (one line, exit 2) and before any database is migrated.
 */
export function servicesConfigurationMistake(config: Config, roles: readonly ServiceRole[]): string | undefined {
  if (config.GATEWAY_SECRET === undefined) return 'Service roles run behind the gateway: set GATEWAY_SECRET (the same as the gateway\'s).';
  const here = new Set(roles);
  const missing = [...here].map((role) => databaseVariableOf(role)).filter((variable) => (config[variable] ?? config.DATABASE_URL) === undefined);
  if (missing.length > 0) return `Set ${missing.join(', ')} (or DATABASE_URL): a service never starts an embedded database.`;
  // Every module's role in this one process is the only services shape that needs no Kafka.
  if (config.KAFKA_BROKERS === undefined && !moduleNames.every((role) => here.has(role))) {
    return 'Services in separate processes talk through Kafka: set KAFKA_BROKERS.';
  }
  const catalogReachable = here.has('catalog') || config.CATALOG_SERVICE_URL !== undefined;
  const inventoryReachable = here.has('inventory') || config.INVENTORY_SERVICE_URL !== undefined;
  if (here.has('orders') && !catalogReachable) return 'The orders module needs the catalog: run it in this process or set CATALOG_SERVICE_URL.';
  if (here.has('jobs') && (!catalogReachable || !inventoryReachable)) {
    return 'The jobs module needs the catalog and inventory: run them in this process or set CATALOG_SERVICE_URL and INVENTORY_SERVICE_URL.';
  }
  return undefined;
}

/** `start --role orders` or `--role orders,payments`: some services of the services shape in this process. */
export async function startServices(config: Config, logger: Logger, roles: readonly ServiceRole[]): Promise<void> {
  const { createServices, serviceDatabaseUrls } = await import('../apps/services.ts');
  const startedAt = performance.now();
  await checkConfiguredDatabases(config, logger, serviceDatabaseUrls(config, roles));
  const mistake = servicesConfigurationMistake(config, roles);
  if (mistake !== undefined) throw new ConfigError([mistake]);
  const running = await createServices({ config, logger, roles, keyEncryptionKey: await resolveKeyEncryptionKey(config, logger) });
  await takeSignals({ logger, shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS }).stopWith(() => running.close());
  let listening;
  try {
    await running.start();
    listening = await listen(config, running);
  } catch (error) {
    // A taken port or a failed start: close what is open (Kafka, pools, workers), or the process would stay up, failed but running.
    await running.close().catch(() => undefined);
    throw error;
  }
  logger.info({ url: listening.url, metricsUrl: listening.metricsUrl, roles, startupMs: Math.round(performance.now() - startedAt) }, 'OrderStream is listening');
}
