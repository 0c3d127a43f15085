import type { RoutePolicy } from '../../../../platform/http/edge.ts';

/**
 * Who may call each route payments registers (payment-operation-admin-routes.ts,
 * stripe-webhook-routes.ts). Pure data, so the module registry carries it to the edge and the
 * gateway without loading the module; a route missing here stops the app from starting.
 */
export const paymentsRoutePolicies: readonly Omit<RoutePolicy, 'upstream'>[] = [
  // operations that failed and wait for an admin
  { method: 'GET', url: '/v1/admin/payment-operations', access: 'admin', retry: true },
  { method: 'POST', url: '/v1/admin/payment-operations/:id/retry', access: 'admin' },
  // provider callbacks authenticate by their own signature
  { method: 'POST', url: '/v1/payments/stripe/webhook', access: 'public' },
];
