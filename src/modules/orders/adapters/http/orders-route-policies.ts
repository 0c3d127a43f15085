import type { RoutePolicy } from '../../../../platform/http/edge.ts';

/**
 * Who may call each route orders registers (order-routes.ts, admin-order-routes.ts, orders-internal-routes.ts). Pure data, so the module registry
 * carries it to the edge and the gateway without loading the module; a route missing here stops
 * the app from starting. Ownership of an order is checked by the module itself.
 */
export const ordersRoutePolicies: readonly Omit<RoutePolicy, 'upstream'>[] = [
  { method: 'POST', url: '/v1/orders', access: 'customer', verifiedEmail: true },
  { method: 'GET', url: '/v1/orders', access: 'customer', retry: true },
  { method: 'GET', url: '/v1/orders/:id', access: 'customer', retry: true },
  { method: 'POST', url: '/v1/orders/:id/cancel', access: 'customer' },
  // what the people who run OrderStream read: every order, and the live summary
  { method: 'GET', url: '/v1/admin/orders', access: 'admin', retry: true },
  { method: 'GET', url: '/v1/admin/summary', access: 'admin', retry: true },
  // what the jobs module reads for an export, when it runs in another service
  { method: 'POST', url: '/internal/v1/orders/export-pages', access: 'service', retry: true },
];
