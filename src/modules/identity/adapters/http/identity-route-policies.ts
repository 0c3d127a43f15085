import type { RoutePolicy } from '../../../../platform/http/edge.ts';

/**
 * Who may call each route identity registers (identity-routes.ts, account-security-routes.ts).
 * Pure data, so the module registry carries it to the edge and the gateway without loading the
 * module; a route missing here stops the app from starting.
 */
export const identityRoutePolicies: readonly Omit<RoutePolicy, 'upstream'>[] = [
  // sign-in and token endpoints draw from the tighter auth rate-limit bucket
  { method: 'POST', url: '/v1/auth/register', access: 'public', rateLimit: 'auth' },
  { method: 'POST', url: '/v1/auth/login', access: 'public', rateLimit: 'auth' },
  // these two read the refresh-token cookie of browser pages (refresh-token-cookie.ts), so the gateway passes cookies on
  { method: 'POST', url: '/v1/auth/refresh', access: 'public', rateLimit: 'auth', cookies: true },
  { method: 'POST', url: '/v1/auth/logout', access: 'public', rateLimit: 'auth', cookies: true },
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
];
