import type { RoutePolicy } from '../../platform/http/edge.ts';

/**
 * Who may call what: the gateway's routing table. Every route a module registers must appear
 * here (the app refuses to start otherwise), so a new route is never public by accident.
 */
export const routePolicies: readonly RoutePolicy[] = [
  // operations and documentation
  { method: 'GET', url: '/healthz', access: 'public' },
  { method: 'GET', url: '/readyz', access: 'public' },
  { method: 'GET', url: '/openapi.json', access: 'public' },
  { method: 'GET', url: '/docs', access: 'public' },
  { method: 'GET', url: '/docs/*', access: 'public' },
  // identity: sign-in and token endpoints draw from the tighter auth rate-limit bucket
  { method: 'POST', url: '/v1/auth/register', access: 'public', rateLimit: 'auth' },
  { method: 'POST', url: '/v1/auth/login', access: 'public', rateLimit: 'auth' },
  { method: 'POST', url: '/v1/auth/refresh', access: 'public', rateLimit: 'auth' },
  { method: 'POST', url: '/v1/auth/logout', access: 'public', rateLimit: 'auth' },
  { method: 'POST', url: '/v1/auth/token', access: 'public', rateLimit: 'auth' },
  { method: 'GET', url: '/.well-known/jwks.json', access: 'public' },
  { method: 'GET', url: '/.well-known/openid-configuration', access: 'public' },
  // catalogue
  { method: 'GET', url: '/v1/products', access: 'public' },
  { method: 'GET', url: '/v1/products/:id', access: 'public' },
  { method: 'POST', url: '/v1/products', access: 'admin' },
  { method: 'PATCH', url: '/v1/products/:id', access: 'admin' },
  // inventory
  { method: 'GET', url: '/v1/inventory/:sku', access: 'admin' },
  { method: 'PUT', url: '/v1/inventory/:sku', access: 'admin' },
  // orders (ownership is checked by the orders module)
  { method: 'POST', url: '/v1/orders', access: 'customer' },
  { method: 'GET', url: '/v1/orders', access: 'customer' },
  { method: 'GET', url: '/v1/orders/:id', access: 'customer' },
  { method: 'POST', url: '/v1/orders/:id/cancel', access: 'customer' },
  { method: 'GET', url: '/v1/orders/:id/invoice', access: 'customer' },
  // document jobs
  { method: 'POST', url: '/v1/imports', access: 'admin' },
  { method: 'GET', url: '/v1/jobs', access: 'admin' },
  { method: 'GET', url: '/v1/jobs/:id', access: 'admin' },
  { method: 'GET', url: '/v1/jobs/:id/errors.csv', access: 'admin' },
  { method: 'POST', url: '/v1/jobs/:id/cancel', access: 'admin' },
  // notifications administration
  { method: 'POST', url: '/v1/admin/webhooks', access: 'admin' },
  { method: 'GET', url: '/v1/admin/webhooks', access: 'admin' },
  { method: 'DELETE', url: '/v1/admin/webhooks/:id', access: 'admin' },
  { method: 'GET', url: '/v1/admin/webhook-deliveries', access: 'admin' },
  { method: 'POST', url: '/v1/admin/webhook-deliveries/:id/retry', access: 'admin' },
  // payment provider callbacks authenticate by their own signature
  { method: 'POST', url: '/v1/payments/stripe/webhook', access: 'public' },
];
