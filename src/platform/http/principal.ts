import type { FastifyRequest } from 'fastify';
import { HttpProblem } from './problem.ts';

/** Who is calling: established at the edge, read by inbound adapters to authorize. */
export interface Principal {
  id: string;
  email: string;
  roles: readonly ('customer' | 'admin' | 'service')[];
  /** False when the token says the email is not proven to be the caller's; undefined when it does not say. */
  emailVerified?: boolean | undefined;
}

const idPattern = /^[A-Za-z0-9._:@-]{1,128}$/;

/**
 * The caller: the principal the edge verified from a bearer token, or, only where
 * DEV_IDENTITY_HEADERS allows it, the development identity the caller names itself with
 * (`x-dev-customer-id`, optional `x-dev-customer-email`, `x-dev-roles: admin`).
 */
export function principalOf(request: FastifyRequest, options: { devIdentityHeaders: boolean }): Principal | undefined {
  if (request.principal !== undefined) return request.principal;
  return options.devIdentityHeaders ? devPrincipal(request) : undefined;
}

/** The identity a caller claims with the development headers, if well-formed; trust it only where allowed. */
export function devPrincipal(request: FastifyRequest): Principal | undefined {
  const id = request.headers['x-dev-customer-id'];
  if (typeof id !== 'string' || !idPattern.test(id)) return undefined;
  const emailHeader = request.headers['x-dev-customer-email'];
  const email = typeof emailHeader === 'string' && /^[^\s@]+@[^\s@]+$/.test(emailHeader) ? emailHeader : `${id}@customers.orderstream.local`;
  const rolesHeader = request.headers['x-dev-roles'];
  const admin = typeof rolesHeader === 'string' && rolesHeader.split(',').map((role) => role.trim()).includes('admin');
  return { id, email, roles: admin ? ['customer', 'admin'] : ['customer'] };
}

/** The caller, or a 401 problem when the request carries no identity. */
export function requirePrincipal(request: FastifyRequest, options: { devIdentityHeaders: boolean }): Principal {
  const principal = principalOf(request, options);
  if (principal === undefined) {
    throw new HttpProblem({
      status: 401, slug: 'unauthenticated', title: 'Authentication required',
      detail: options.devIdentityHeaders ? 'Send x-dev-customer-id (development identity) to act as a customer.' : 'No identity was presented.',
    });
  }
  return principal;
}

/** The client's address: as the gateway vouched for it when behind one, else the socket's (or X-Forwarded-For's, per TRUST_PROXY). */
export function clientAddressOf(request: FastifyRequest): string {
  return request.clientAddress ?? request.ip;
}
