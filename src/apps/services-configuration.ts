import { ConfigError, type Config } from '../platform/config/config.ts';
import { databaseVariableOf, moduleNames, type ModuleName } from './module-registry.ts';

/**
 * What `roles` need to run as services, checked before anything is opened or migrated: the gateway
 * secret, a database for each role, Kafka unless every role runs in this process (or the caller
 * brings a transport), and the catalog (and, for jobs, inventory and orders) here or at its service URL.
 * Returns the gateway secret; throws a ConfigError naming the first thing missing.
 */
export function requireServicesConfiguration(config: Config, roles: readonly ModuleName[], options: { transportGiven?: boolean } = {}): string {
  const refuse = (issue: string): never => { throw new ConfigError([issue]); };
  const secret = config.GATEWAY_SECRET ?? refuse('Service roles run behind the gateway: set GATEWAY_SECRET (the same as the gateway\'s).');
  const here = new Set(roles);
  const missing = [...here].map((role) => databaseVariableOf(role)).filter((variable) => (config[variable] ?? config.DATABASE_URL) === undefined);
  if (missing.length > 0) refuse(`Set ${missing.join(', ')} (or DATABASE_URL): a service never starts an embedded database.`);
  // Every module's role in this one process is the only services shape that needs no Kafka.
  if (options.transportGiven !== true && config.KAFKA_BROKERS === undefined && !moduleNames.every((role) => here.has(role))) {
    refuse('Services in separate processes talk through Kafka: set KAFKA_BROKERS.');
  }
  const catalogReachable = here.has('catalog') || config.CATALOG_SERVICE_URL !== undefined;
  const inventoryReachable = here.has('inventory') || config.INVENTORY_SERVICE_URL !== undefined;
  if (here.has('orders') && !catalogReachable) refuse('The orders module needs the catalog: run it in this process or set CATALOG_SERVICE_URL.');
  const ordersReachable = here.has('orders') || config.ORDERS_SERVICE_URL !== undefined;
  if (here.has('jobs') && (!catalogReachable || !inventoryReachable || !ordersReachable)) {
    refuse('The jobs module needs the catalog, inventory and orders: run them in this process or set CATALOG_SERVICE_URL, INVENTORY_SERVICE_URL and ORDERS_SERVICE_URL.');
  }
  return secret;
}
