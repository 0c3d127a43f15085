import type { RoutePolicy } from '../../../../platform/http/edge.ts';

/**
 * Who may call each route the catalog registers (catalog-routes.ts, catalog-internal-routes.ts).
 * Pure data, so the module registry carries it to the edge and the gateway without loading the
 * module; a route missing here stops the app from starting.
 */
export const catalogRoutePolicies: readonly Omit<RoutePolicy, 'upstream'>[] = [
  { method: 'GET', url: '/v1/products', access: 'public', retry: true },
  { method: 'GET', url: '/v1/products/:id', access: 'public', retry: true },
  { method: 'POST', url: '/v1/products', access: 'admin' },
  { method: 'PATCH', url: '/v1/products/:id', access: 'admin' },
  { method: 'POST', url: '/internal/v1/catalog/product-snapshots', access: 'service', retry: true },
  { method: 'PUT', url: '/internal/v1/catalog/products/:sku', access: 'service', retry: true },
  { method: 'PUT', url: '/internal/v1/catalog/product-batches/:key', access: 'service', retry: true },
];
