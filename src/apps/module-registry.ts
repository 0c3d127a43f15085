import type { RoutePolicy } from '../platform/http/edge.ts';
import { catalogRoutePolicies } from '../modules/catalog/adapters/http/catalog-route-policies.ts';
import { identityRoutePolicies } from '../modules/identity/adapters/http/identity-route-policies.ts';
import { inventoryRoutePolicies } from '../modules/inventory/adapters/http/inventory-route-policies.ts';
import { jobsRoutePolicies } from '../modules/jobs/adapters/http/jobs-route-policies.ts';
import { notificationsRoutePolicies } from '../modules/notifications/adapters/http/notifications-route-policies.ts';
import { ordersRoutePolicies } from '../modules/orders/adapters/http/orders-route-policies.ts';
import { paymentsRoutePolicies } from '../modules/payments/adapters/http/payments-route-policies.ts';

/**
 * The one list of OrderStream's modules, read by every composition root (single-process.ts,
 * services.ts), the gateway's route table (gateway/route-policies.ts), the local services runner
 * and the tests that hold config and the deploy files to it. It loads no module's code, only each
 * module's route policies, which are pure data kept beside its routes
 * (`src/modules/<name>/adapters/http/<name>-route-policies.ts`): the gateway, the runner and the
 * CLI read it without loading the modules. How each is built, and its migrations, are in
 * module-factories.ts, keyed by these names (the compiler checks both agree).
 */

/** A route a module serves and who may call it; the gateway sends it to the module's service. */
export type ModuleRoute = Omit<RoutePolicy, 'upstream'>;

/** One module, as the composition roots, the gateway and the runner see it. */
export interface ModuleEntry {
  /** Its folder under src/modules/, its role in the services shape (`--role`) and its upstream at the gateway. */
  name: string;
  /** The variable naming its own database in the services shape (declared in src/platform/config/config.ts); DATABASE_URL when unset. */
  databaseVariable: `${string}_DATABASE_URL`;
  /** It consumes messages, so has dead letters an admin may list and replay (`/v1/admin/<name>/dead-letters`). */
  consumesMessages: boolean;
  /** Every route it registers, with its access policy, declared beside its routes: the app refuses to start with a route that has none. */
  routes: readonly ModuleRoute[];
}

/**
 * Every module, in the order they are built, migrated, routed and given ports by the runner: a
 * module comes after those whose in-process client it takes (orders and jobs after the catalog and inventory).
 */
export const moduleRegistry = [
  {
    name: 'identity',
    databaseVariable: 'IDENTITY_DATABASE_URL',
    consumesMessages: false,
    routes: identityRoutePolicies,
  },
  {
    name: 'catalog',
    databaseVariable: 'CATALOG_DATABASE_URL',
    consumesMessages: true,
    routes: catalogRoutePolicies,
  },
  {
    name: 'inventory',
    databaseVariable: 'INVENTORY_DATABASE_URL',
    consumesMessages: true,
    routes: inventoryRoutePolicies,
  },
  {
    name: 'orders',
    databaseVariable: 'ORDERS_DATABASE_URL',
    consumesMessages: true,
    routes: ordersRoutePolicies,
  },
  {
    name: 'payments',
    databaseVariable: 'PAYMENTS_DATABASE_URL',
    consumesMessages: true,
    routes: paymentsRoutePolicies,
  },
  {
    name: 'notifications',
    databaseVariable: 'NOTIFICATIONS_DATABASE_URL',
    consumesMessages: true,
    routes: notificationsRoutePolicies,
  },
  {
    // The document jobs service is `jobs`: `worker` already names the single process's HTTP-less half (decision 0009).
    name: 'jobs',
    databaseVariable: 'JOBS_DATABASE_URL',
    consumesMessages: true,
    routes: jobsRoutePolicies,
  },
] as const satisfies readonly ModuleEntry[];

export type ModuleName = (typeof moduleRegistry)[number]['name'];

/** Every module's name, in registry order. */
export const moduleNames: readonly ModuleName[] = moduleRegistry.map((entry) => entry.name);

/** The modules that consume messages, so have dead letters an admin may list and replay. */
export const consumingModules: readonly ModuleName[] = moduleRegistry.filter((entry) => entry.consumesMessages).map((entry) => entry.name);

/** Every module keeps the audit trail of the administrative acts on its own data. */
export const auditedModules: readonly ModuleName[] = moduleNames;

/** The variables naming the modules' own databases (`ORDERS_DATABASE_URL`, ...). */
export type ModuleDatabaseVariable = (typeof moduleRegistry)[number]['databaseVariable'];

const databaseVariables = new Map<string, ModuleDatabaseVariable>(moduleRegistry.map((entry) => [entry.name, entry.databaseVariable]));

/** The variable naming the own database of module `name` in the services shape. */
export function databaseVariableOf(name: ModuleName): ModuleDatabaseVariable {
  const variable = databaseVariables.get(name);
  if (variable === undefined) throw new Error(`no module ${name}`);
  return variable;
}

export function isModuleName(name: string): name is ModuleName {
  return databaseVariables.has(name);
}
