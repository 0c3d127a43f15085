import type { RoutePolicy } from '../../../../platform/http/edge.ts';

/**
 * Who may call each route the document jobs register (jobs-routes.ts). Pure data, so the module
 * registry carries it to the edge and the gateway without loading the module; a route missing here
 * stops the app from starting.
 */
export const jobsRoutePolicies: readonly Omit<RoutePolicy, 'upstream'>[] = [
  { method: 'GET', url: '/v1/orders/:id/invoice', access: 'customer', retry: true },
  { method: 'POST', url: '/v1/imports', access: 'admin', timeoutMs: 120_000, upload: true },
  { method: 'GET', url: '/v1/jobs', access: 'admin', retry: true },
  { method: 'GET', url: '/v1/jobs/:id', access: 'admin', retry: true },
  { method: 'GET', url: '/v1/jobs/:id/errors.csv', access: 'admin', retry: true },
  // The gateway streams every answer back as it arrives; `timeoutMs` also bounds the silence between
  // two chunks, so it must outlast the stream's heartbeat (15 s), which keeps it from ever being reached.
  { method: 'GET', url: '/v1/jobs/:id/events', access: 'admin', timeoutMs: 45_000 },
  { method: 'POST', url: '/v1/jobs/:id/cancel', access: 'admin' },
  { method: 'POST', url: '/v1/exports/orders', access: 'admin' },
  { method: 'GET', url: '/v1/jobs/:id/file', access: 'admin', retry: true },
];
