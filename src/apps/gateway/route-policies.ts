import type { RoutePolicy } from '../../platform/http/edge.ts';
import { auditPath } from '../../platform/audit/index.ts';
import { deadLetterPaths } from '../../platform/messaging/index.ts';

/** The modules that consume messages, so have dead letters an admin may list and replay. */
export const consumingModules = ['catalog', 'inventory', 'payments', 'orders', 'notifications', 'jobs'] as const;

/** Every module: each keeps the audit trail of the administrative acts on its own data. */
export const auditedModules = ['identity', ...consumingModules] as const;

/**
 * Who may call what: the gateway's routing table. Every route a module registers must appear
 * here (the app refuses to start otherwise), so a new route is never public by accident.
 */
export const routePolicies: readonly RoutePolicy[] = [
  // operations and documentation
  { method: 'GET', url: '/healthz', access: 'public', upstream: 'gateway' },
  { method: 'GET', url: '/readyz', access: 'public', upstream: 'gateway' },
  { method: 'GET', url: '/openapi.json', access: 'public', upstream: 'docs', retry: true },
  { method: 'GET', url: '/docs', access: 'public', upstream: 'docs', retry: true },
  { method: 'GET', url: '/docs/*', access: 'public', upstream: 'docs', retry: true },
  // identity: sign-in and token endpoints draw from the tighter auth rate-limit bucket
  { method: 'POST', url: '/v1/auth/register', access: 'public', rateLimit: 'auth', upstream: 'identity' },
  { method: 'POST', url: '/v1/auth/login', access: 'public', rateLimit: 'auth', upstream: 'identity' },
  { method: 'POST', url: '/v1/auth/refresh', access: 'public', rateLimit: 'auth', upstream: 'identity' },
  { method: 'POST', url: '/v1/auth/logout', access: 'public', rateLimit: 'auth', upstream: 'identity' },
  { method: 'POST', url: '/v1/auth/verify-email', access: 'public', rateLimit: 'auth', upstream: 'identity' },
  { method: 'POST', url: '/v1/auth/password-reset', access: 'public', rateLimit: 'auth', upstream: 'identity' },
  { method: 'POST', url: '/v1/auth/password-reset/complete', access: 'public', rateLimit: 'auth', upstream: 'identity' },
  { method: 'POST', url: '/v1/auth/sign-in-link', access: 'public', rateLimit: 'auth', upstream: 'identity' },
  { method: 'POST', url: '/v1/auth/sign-in-link/complete', access: 'public', rateLimit: 'auth', upstream: 'identity' },
  { method: 'POST', url: '/v1/auth/token', access: 'public', rateLimit: 'auth', upstream: 'identity' },
  { method: 'POST', url: '/v1/auth/password', access: 'customer', rateLimit: 'auth', upstream: 'identity' },
  // account administration: ending sessions, disabling and enabling accounts
  { method: 'POST', url: '/v1/admin/users/:id/sessions/revoke', access: 'admin', upstream: 'identity' },
  { method: 'POST', url: '/v1/admin/users/:id/disable', access: 'admin', upstream: 'identity' },
  { method: 'POST', url: '/v1/admin/users/:id/enable', access: 'admin', upstream: 'identity' },
  { method: 'GET', url: '/.well-known/jwks.json', access: 'public', upstream: 'identity', retry: true },
  { method: 'GET', url: '/.well-known/openid-configuration', access: 'public', upstream: 'identity', retry: true },
  // catalogue
  { method: 'GET', url: '/v1/products', access: 'public', upstream: 'catalog', retry: true },
  { method: 'GET', url: '/v1/products/:id', access: 'public', upstream: 'catalog', retry: true },
  { method: 'POST', url: '/v1/products', access: 'admin', upstream: 'catalog' },
  { method: 'PATCH', url: '/v1/products/:id', access: 'admin', upstream: 'catalog' },
  { method: 'POST', url: '/internal/v1/catalog/product-snapshots', access: 'service', upstream: 'catalog', retry: true },
  { method: 'PUT', url: '/internal/v1/catalog/products/:sku', access: 'service', upstream: 'catalog', retry: true },
  // inventory
  { method: 'GET', url: '/v1/inventory/:sku', access: 'admin', upstream: 'inventory', retry: true },
  { method: 'PUT', url: '/v1/inventory/:sku', access: 'admin', upstream: 'inventory', retry: true },
  { method: 'PUT', url: '/internal/v1/inventory/stock-levels/:sku', access: 'service', upstream: 'inventory', retry: true },
  // orders (ownership is checked by the orders module)
  { method: 'POST', url: '/v1/orders', access: 'customer', upstream: 'orders', verifiedEmail: true },
  { method: 'GET', url: '/v1/orders', access: 'customer', upstream: 'orders', retry: true },
  { method: 'GET', url: '/v1/orders/:id', access: 'customer', upstream: 'orders', retry: true },
  { method: 'POST', url: '/v1/orders/:id/cancel', access: 'customer', upstream: 'orders' },
  { method: 'GET', url: '/v1/orders/:id/invoice', access: 'customer', upstream: 'jobs', retry: true },
  // document jobs
  { method: 'POST', url: '/v1/imports', access: 'admin', upstream: 'jobs', timeoutMs: 120_000, upload: true },
  { method: 'GET', url: '/v1/jobs', access: 'admin', upstream: 'jobs', retry: true },
  { method: 'GET', url: '/v1/jobs/:id', access: 'admin', upstream: 'jobs', retry: true },
  { method: 'GET', url: '/v1/jobs/:id/errors.csv', access: 'admin', upstream: 'jobs', retry: true },
  { method: 'POST', url: '/v1/jobs/:id/cancel', access: 'admin', upstream: 'jobs' },
  // notifications administration
  { method: 'POST', url: '/v1/admin/webhooks', access: 'admin', upstream: 'notifications' },
  { method: 'GET', url: '/v1/admin/webhooks', access: 'admin', upstream: 'notifications', retry: true },
  { method: 'DELETE', url: '/v1/admin/webhooks/:id', access: 'admin', upstream: 'notifications', retry: true },
  { method: 'POST', url: '/v1/admin/webhooks/:id/secret/roll', access: 'admin', upstream: 'notifications' },
  { method: 'GET', url: '/v1/admin/webhook-deliveries', access: 'admin', upstream: 'notifications', retry: true },
  { method: 'POST', url: '/v1/admin/webhook-deliveries/:id/retry', access: 'admin', upstream: 'notifications' },
  { method: 'GET', url: '/v1/admin/email-deliveries', access: 'admin', upstream: 'notifications', retry: true },
  { method: 'POST', url: '/v1/admin/email-deliveries/:id/retry', access: 'admin', upstream: 'notifications' },
  // payments administration: operations that failed and wait for an admin
  { method: 'GET', url: '/v1/admin/payment-operations', access: 'admin', upstream: 'payments', retry: true },
  { method: 'POST', url: '/v1/admin/payment-operations/:id/retry', access: 'admin', upstream: 'payments' },
  // dead letters, per module: each service answers for its own database
  ...consumingModules.flatMap((module): RoutePolicy[] => [
    { method: 'GET', url: deadLetterPaths(module).list, access: 'admin', upstream: module, retry: true },
    { method: 'POST', url: deadLetterPaths(module).replay, access: 'admin', upstream: module },
  ]),
  // audit trail, per module: each service answers for the acts recorded in its own database
  ...auditedModules.map((module): RoutePolicy => ({ method: 'GET', url: auditPath(module), access: 'admin', upstream: module, retry: true })),
  // payment provider callbacks authenticate by their own signature
  { method: 'POST', url: '/v1/payments/stripe/webhook', access: 'public', upstream: 'payments' },
];
