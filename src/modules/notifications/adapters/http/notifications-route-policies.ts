import type { RoutePolicy } from '../../../../platform/http/edge.ts';

/**
 * Who may call each route notifications registers (webhook-admin-routes.ts,
 * email-delivery-admin-routes.ts, delivery-admin-routes.ts). Pure data, so the module registry
 * carries it to the edge and the gateway without loading the module; a route missing here stops
 * the app from starting.
 */
export const notificationsRoutePolicies: readonly Omit<RoutePolicy, 'upstream'>[] = [
  { method: 'POST', url: '/v1/admin/webhooks', access: 'admin' },
  { method: 'GET', url: '/v1/admin/webhooks', access: 'admin', retry: true },
  { method: 'DELETE', url: '/v1/admin/webhooks/:id', access: 'admin', retry: true },
  { method: 'POST', url: '/v1/admin/webhooks/:id/secret/roll', access: 'admin' },
  { method: 'GET', url: '/v1/admin/webhook-deliveries', access: 'admin', retry: true },
  { method: 'POST', url: '/v1/admin/webhook-deliveries/:id/retry', access: 'admin' },
  { method: 'GET', url: '/v1/admin/email-deliveries', access: 'admin', retry: true },
  { method: 'POST', url: '/v1/admin/email-deliveries/:id/retry', access: 'admin' },
];
