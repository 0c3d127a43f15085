import { randomBytes } from 'node:crypto';
import type { BurstKit, RouteBurst } from './burst-kit.ts';
import { takeRefreshTokens } from './fixture-pools.ts';
import { at, password, run, unsentToken } from './load-run.ts';

/** Registration, sign-in and tokens, account emails, passwords, user administration and the signing keys. */
export function identityBursts({ fixtureOf, simple, keepRefreshTokens, managedUsers }: BurstKit): RouteBurst[] {
  return [
    simple('POST /v1/auth/register', [202], (_fixture, index) => {
      const email = `load-new-${run.toLowerCase()}-${String(index)}-${randomBytes(3).toString('hex')}@example.com`;
      return { method: 'POST', path: '/v1/auth/register', json: { email, password: password(email) } };
    }),
    {
      ...simple('POST /v1/auth/login', [200], ({ customers }, index) => {
        const customer = at(customers, index);
        return { method: 'POST', path: '/v1/auth/login', json: { email: customer.email, password: customer.password } };
      }),
      keep: keepRefreshTokens,
    },
    {
      route: 'POST /v1/auth/refresh', expected: [200], keep: keepRefreshTokens,
      requests: async (count) => (await takeRefreshTokens(fixtureOf(), count)).map((refreshToken) => ({ method: 'POST', path: '/v1/auth/refresh', json: { refreshToken } })),
    },
    {
      route: 'POST /v1/auth/logout', expected: [204],
      requests: async (count) => (await takeRefreshTokens(fixtureOf(), count)).map((refreshToken) => ({ method: 'POST', path: '/v1/auth/logout', json: { refreshToken } })),
    },
    simple('POST /v1/auth/token', [200], ({ serviceClient }, index) => {
      const fields = { grant_type: 'client_credentials', client_id: serviceClient.clientId, client_secret: serviceClient.clientSecret };
      // OAuth clients send a form; some send JSON: both are served.
      return index % 2 === 0
        ? { method: 'POST', path: '/v1/auth/token', body: new URLSearchParams(fields) }
        : { method: 'POST', path: '/v1/auth/token', json: fields };
    }),
    // Tokens no one was sent: the route looks each up and refuses it, as it does a used or expired one.
    simple('POST /v1/auth/verify-email', [400], () => ({ method: 'POST', path: '/v1/auth/verify-email', json: { token: unsentToken() } })),
    simple('POST /v1/auth/password-reset', [202], ({ customers }, index) => ({ method: 'POST', path: '/v1/auth/password-reset', json: { email: at(customers, index).email } })),
    simple('POST /v1/auth/password-reset/complete', [400], (_fixture, index) => ({
      method: 'POST', path: '/v1/auth/password-reset/complete', json: { token: unsentToken(), newPassword: `Reset under load ${run} ${String(index)}` },
    })),
    simple('POST /v1/auth/sign-in-link', [202], ({ customers }, index) => ({ method: 'POST', path: '/v1/auth/sign-in-link', json: { email: at(customers, index).email } })),
    simple('POST /v1/auth/sign-in-link/complete', [400], () => ({ method: 'POST', path: '/v1/auth/sign-in-link/complete', json: { token: unsentToken() } })),
    // A wrong current password: hashed and refused, and the customers keep the passwords later bursts sign in with.
    simple('POST /v1/auth/password', [403], ({ customers }, index) => {
      const customer = at(customers, index);
      return { method: 'POST', path: '/v1/auth/password', token: customer.token, json: { currentPassword: `not ${customer.password}`, newPassword: `Changed under load ${run} ${String(index)}` } };
    }),
    // Accounts of their own, so no later burst loses its customers' sessions.
    {
      route: 'POST /v1/admin/users/:id/sessions/revoke', expected: [200],
      requests: async (count) => (await managedUsers(count)).map((id) => ({ method: 'POST', path: `/v1/admin/users/${id}/sessions/revoke`, token: fixtureOf().admin })),
    },
    {
      route: 'POST /v1/admin/users/:id/disable', expected: [200],
      requests: async (count) => (await managedUsers(count)).map((id) => ({ method: 'POST', path: `/v1/admin/users/${id}/disable`, token: fixtureOf().admin })),
    },
    {
      route: 'POST /v1/admin/users/:id/enable', expected: [200],
      requests: async (count) => (await managedUsers(count)).map((id) => ({ method: 'POST', path: `/v1/admin/users/${id}/enable`, token: fixtureOf().admin })),
    },
    simple('GET /.well-known/jwks.json', [200], () => ({ method: 'GET', path: '/.well-known/jwks.json' })),
    simple('GET /.well-known/openid-configuration', [200], () => ({ method: 'GET', path: '/.well-known/openid-configuration' })),
  ];
}
