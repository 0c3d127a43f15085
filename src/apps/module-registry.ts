import type { RoutePolicy } from '../platform/http/edge.ts';

/**
 * The one list of OrderStream's modules, read by every composition root (single-process.ts,
 * services.ts), the gateway's route table (gateway/route-policies.ts), the local services runner
 * and the tests that hold config and the deploy files to it. It names no module's code: the
 * gateway, the runner and the CLI read it without loading the modules; how each is built, and its
 * migrations, are in module-factories.ts, keyed by these names (the compiler checks both agree).
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
  /** Every route it registers, with its access policy: the app refuses to start with a route that has none. */
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
    routes: [
      // sign-in and token endpoints draw from the tighter auth rate-limit bucket
      { method: 'POST', url: '/v1/auth/register', access: 'public', rateLimit: 'auth' },
      { method: 'POST', url: '/v1/auth/login', access: 'public', rateLimit: 'auth' },
      { method: 'POST', url: '/v1/auth/refresh', access: 'public', rateLimit: 'auth' },
      { method: 'POST', url: '/v1/auth/logout', access: 'public', rateLimit: 'auth' },
      { method: 'POST', url: '/v1/auth/verify-email', access: 'public', rateLimit: 'auth' },
      { method: 'POST', url: '/v1/auth/password-reset', access: 'public', rateLimit: 'auth' },
      { method: 'POST', url: '/v1/auth/password-reset/complete', access: 'public', rateLimit: 'auth' },
      { method: 'POST', url: '/v1/auth/sign-in-link', access: 'public', rateLimit: 'auth' },
      { method: 'POST', url: '/v1/auth/sign-in-link/complete', access: 'public', rateLimit: 'auth' },
      { method: 'POST', url: '/v1/auth/token', access: 'public', rateLimit: 'auth' },
      { method: 'POST', url: '/v1/auth/password', access: 'customer', rateLimit: 'auth' },
      // account administration: ending sessions, disabling and enabling accounts
      { method: 'POST', url: '/v1/admin/users/:id/sessions/revoke', access: 'admin' },
      { method: 'POST', url: '/v1/admin/users/:id/disable', access: 'admin' },
      { method: 'POST', url: '/v1/admin/users/:id/enable', access: 'admin' },
      { method: 'GET', url: '/.well-known/jwks.json', access: 'public', retry: true },
      { method: 'GET', url: '/.well-known/openid-configuration', access: 'public', retry: true },
    ],
  },
  {
    name: 'catalog',
    databaseVariable: 'CATALOG_DATABASE_URL',
    consumesMessages: true,
    routes: [
      { method: 'GET', url: '/v1/products', access: 'public', retry: true },
      { method: 'GET', url: '/v1/products/:id', access: 'public', retry: true },
      { method: 'POST', url: '/v1/products', access: 'admin' },
      { method: 'PATCH', url: '/v1/products/:id', access: 'admin' },
      { method: 'POST', url: '/internal/v1/catalog/product-snapshots', access: 'service', retry: true },
      { method: 'PUT', url: '/internal/v1/catalog/products/:sku', access: 'service', retry: true },
    ],
  },
  {
    name: 'inventory',
    databaseVariable: 'INVENTORY_DATABASE_URL',
    consumesMessages: true,
    routes: [
      { method: 'GET', url: '/v1/inventory/:sku', access: 'admin', retry: true },
      { method: 'PUT', url: '/v1/inventory/:sku', access: 'admin', retry: true },
      { method: 'PUT', url: '/internal/v1/inventory/stock-levels/:sku', access: 'service', retry: true },
    ],
  },
  {
    name: 'orders',
    databaseVariable: 'ORDERS_DATABASE_URL',
    consumesMessages: true,
    // ownership is checked by the orders module
    routes: [
      { method: 'POST', url: '/v1/orders', access: 'customer', verifiedEmail: true },
      { method: 'GET', url: '/v1/orders', access: 'customer', retry: true },
      { method: 'GET', url: '/v1/orders/:id', access: 'customer', retry: true },
      { method: 'POST', url: '/v1/orders/:id/cancel', access: 'customer' },
    ],
  },
  {
    name: 'payments',
    databaseVariable: 'PAYMENTS_DATABASE_URL',
    consumesMessages: true,
    routes: [
      // operations that failed and wait for an admin
      { method: 'GET', url: '/v1/admin/payment-operations', access: 'admin', retry: true },
      { method: 'POST', url: '/v1/admin/payment-operations/:id/retry', access: 'admin' },
      // provider callbacks authenticate by their own signature
      { method: 'POST', url: '/v1/payments/stripe/webhook', access: 'public' },
    ],
  },
  {
    name: 'notifications',
    databaseVariable: 'NOTIFICATIONS_DATABASE_URL',
    consumesMessages: true,
    routes: [
      { method: 'POST', url: '/v1/admin/webhooks', access: 'admin' },
      { method: 'GET', url: '/v1/admin/webhooks', access: 'admin', retry: true },
      { method: 'DELETE', url: '/v1/admin/webhooks/:id', access: 'admin', retry: true },
      { method: 'POST', url: '/v1/admin/webhooks/:id/secret/roll', access: 'admin' },
      { method: 'GET', url: '/v1/admin/webhook-deliveries', access: 'admin', retry: true },
      { method: 'POST', url: '/v1/admin/webhook-deliveries/:id/retry', access: 'admin' },
      { method: 'GET', url: '/v1/admin/email-deliveries', access: 'admin', retry: true },
      { method: 'POST', url: '/v1/admin/email-deliveries/:id/retry', access: 'admin' },
    ],
  },
  {
    // The document jobs service is `jobs`: `worker` already names the single process's HTTP-less half (decision 0009).
    name: 'jobs',
    databaseVariable: 'JOBS_DATABASE_URL',
    consumesMessages: true,
    routes: [
      { method: 'GET', url: '/v1/orders/:id/invoice', access: 'customer', retry: true },
      { method: 'POST', url: '/v1/imports', access: 'admin', timeoutMs: 120_000, upload: true },
      { method: 'GET', url: '/v1/jobs', access: 'admin', retry: true },
      { method: 'GET', url: '/v1/jobs/:id', access: 'admin', retry: true },
      { method: 'GET', url: '/v1/jobs/:id/errors.csv', access: 'admin', retry: true },
      { method: 'POST', url: '/v1/jobs/:id/cancel', access: 'admin' },
    ],
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
