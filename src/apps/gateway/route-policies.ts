import type { RoutePolicy } from '../../platform/http/edge.ts';
import { auditPath } from '../../platform/audit/index.ts';
import { deadLetterPaths } from '../../platform/messaging/index.ts';
import { auditedModules, consumingModules, moduleRegistry } from '../module-registry.ts';

/** The routes the gateway answers itself (its probes, the console) or sends to whichever service serves the documentation. */
const operationsPolicies: readonly RoutePolicy[] = [
  { method: 'GET', url: '/healthz', access: 'public', upstream: 'gateway' },
  { method: 'GET', url: '/readyz', access: 'public', upstream: 'gateway' },
  { method: 'GET', url: '/openapi.json', access: 'public', upstream: 'docs', retry: true },
  { method: 'GET', url: '/asyncapi.json', access: 'public', upstream: 'docs', retry: true },
  { method: 'GET', url: '/docs', access: 'public', upstream: 'docs', retry: true },
  { method: 'GET', url: '/docs/*', access: 'public', upstream: 'docs', retry: true },
  // the operations console's files (src/apps/console.ts): public, as the page does its own sign-in against the API
  { method: 'GET', url: '/console', access: 'public', upstream: 'gateway' },
  { method: 'GET', url: '/console/*', access: 'public', upstream: 'gateway' },
];

/**
 * Who may call what: the gateway's routing table. Each module declares its routes' policies beside
 * its routes (`src/modules/<name>/adapters/http/<name>-route-policies.ts`), the registry
 * (src/apps/module-registry.ts) collects them, and each is sent to that module's service; this file
 * adds only the routes no module owns: the gateway's probes, the documentation, and the platform's
 * dead letters and audit trail of each module. Every route a module registers must appear here (the
 * app refuses to start otherwise), so a new route is never public by accident.
 */
export const routePolicies: readonly RoutePolicy[] = [
  ...operationsPolicies,
  ...moduleRegistry.flatMap((entry) => entry.routes.map((route): RoutePolicy => ({ ...route, upstream: entry.name }))),
  // dead letters, per module: each service answers for its own database
  ...consumingModules.flatMap((module): RoutePolicy[] => [
    { method: 'GET', url: deadLetterPaths(module).list, access: 'admin', upstream: module, retry: true },
    { method: 'POST', url: deadLetterPaths(module).replay, access: 'admin', upstream: module },
  ]),
  // audit trail, per module: each service answers for the acts recorded in its own database
  ...auditedModules.map((module): RoutePolicy => ({ method: 'GET', url: auditPath(module), access: 'admin', upstream: module, retry: true })),
];
