import type { RoutePolicy } from '../../../../platform/http/edge.ts';

/**
 * Who may call each route the inventory registers (inventory-routes.ts, stock-level-admin-routes.ts,
 * inventory-internal-routes.ts).
 * Pure data, so the module registry carries it to the edge and the gateway without loading the
 * module; a route missing here stops the app from starting.
 */
export const inventoryRoutePolicies: readonly Omit<RoutePolicy, 'upstream'>[] = [
  { method: 'GET', url: '/v1/inventory/:sku', access: 'admin', retry: true },
  { method: 'PUT', url: '/v1/inventory/:sku', access: 'admin', retry: true },
  { method: 'GET', url: '/v1/admin/stock-levels', access: 'admin', retry: true },
  { method: 'PUT', url: '/internal/v1/inventory/stock-levels/:sku', access: 'service', retry: true },
  { method: 'PUT', url: '/internal/v1/inventory/stock-level-batches/:key', access: 'service', retry: true },
];
