import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { authorize, findPolicy, type RoutePolicy } from './edge.ts';
import type { Principal } from './principal.ts';
import { HttpProblem } from './problem.ts';

/**
 * How a service behind the gateway knows a request came through it: the gateway states who the
 * caller is (or that it is anonymous) for one request id at one moment, and signs that statement
 * with a secret only gateways and services hold. A client cannot forge it, and a captured header is
 * useless for another request id or after a minute.
 */
export const principalHeader = 'x-orderstream-principal';
export const signatureHeader = 'x-orderstream-signature';

interface SignedStatement {
  /** The request id the statement is for. */
  rid: string;
  /** Seconds since the epoch when the gateway signed. */
  iat: number;
  principal: Principal | null;
  /** The client's address as the gateway saw it (its rate limits and the sign-in throttle key on it). */
  ip: string;
}

const roles = new Set(['customer', 'admin', 'service']);

function sign(payload: string, secret: string): string {
  return createHmac('sha256', secret).update(payload).digest('base64url');
}

/** The two headers the gateway adds to an upstream request. */
export function signPrincipal(options: { principal: Principal | undefined; requestId: string; clientAddress: string; secret: string; now?: Date }): Record<string, string> {
  const statement: SignedStatement = {
    rid: options.requestId,
    ip: options.clientAddress,
    iat: Math.floor((options.now ?? new Date()).getTime() / 1000),
    principal: options.principal === undefined ? null : { id: options.principal.id, email: options.principal.email, roles: options.principal.roles },
  };
  const payload = Buffer.from(JSON.stringify(statement)).toString('base64url');
  return { [principalHeader]: payload, [signatureHeader]: sign(payload, options.secret) };
}

/** Why a gateway statement was refused; logged by the service, never detailed to the caller. */
export class GatewaySignatureError extends Error {
  readonly reason: string;
  constructor(reason: string) {
    super(`gateway signature rejected: ${reason}`);
    this.name = 'GatewaySignatureError';
    this.reason = reason;
  }
}

/**
 * The principal the gateway vouches for (undefined: anonymous), or GatewaySignatureError when the
 * headers are missing, forged, for another request, or older than `maxAgeSeconds`.
 */
export function verifyPrincipal(options: {
  headers: Record<string, string | string[] | undefined>;
  requestId: string;
  secret: string;
  maxAgeSeconds: number;
  now?: Date;
}): { principal: Principal | undefined; clientAddress: string } {
  const payload = options.headers[principalHeader];
  const signature = options.headers[signatureHeader];
  if (typeof payload !== 'string' || typeof signature !== 'string') throw new GatewaySignatureError('missing');
  const expected = Buffer.from(sign(payload, options.secret));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw new GatewaySignatureError('bad-signature');
  const statement = parseStatement(payload);
  if (statement.rid !== options.requestId) throw new GatewaySignatureError('other-request');
  const age = Math.floor((options.now ?? new Date()).getTime() / 1000) - statement.iat;
  if (age > options.maxAgeSeconds || age < -options.maxAgeSeconds) throw new GatewaySignatureError('stale');
  return { principal: statement.principal ?? undefined, clientAddress: statement.ip };
}

function parseStatement(payload: string): SignedStatement {
  try {
    const value = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Partial<SignedStatement>;
    const principal = value.principal;
    const wellFormed = typeof value.rid === 'string' && typeof value.iat === 'number' && typeof value.ip === 'string'
      && (principal === null || (typeof principal === 'object' && typeof principal.id === 'string' && typeof principal.email === 'string'
        && Array.isArray(principal.roles) && (principal.roles as unknown[]).every((role) => typeof role === 'string' && roles.has(role))));
    if (wellFormed) return value as SignedStatement;
  } catch {
    // falls through to the rejection below
  }
  throw new GatewaySignatureError('malformed');
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Behind a gateway: the client's address the gateway vouched for. */
    clientAddress?: string;
  }
}

/** Routes a load balancer or orchestrator probes on each service directly, not through the gateway. */
const probeRoutes = new Set(['/healthz', '/readyz']);

/**
 * The check a service behind the gateway runs instead of the public edge: every request except the
 * probes must carry a signed statement (from the gateway, or from another service calling as
 * `service`), which becomes `request.principal`. Rate limits and token checks ran at the gateway;
 * the route policy is checked again here, so a service's internal routes stay internal.
 */
export function installGatewayTrust(app: FastifyInstance, options: {
  secret: string;
  policies: readonly RoutePolicy[];
  maxAgeSeconds?: number;
  onRejected?: (reason: string) => void;
}): void {
  app.addHook('onRequest', (request, _reply, done) => {
    if (probeRoutes.has(request.routeOptions.url ?? '')) {
      done();
      return;
    }
    try {
      const { principal, clientAddress } = verifyPrincipal({ headers: request.headers, requestId: request.id, secret: options.secret, maxAgeSeconds: options.maxAgeSeconds ?? 60 });
      if (principal !== undefined) request.principal = principal;
      request.clientAddress = clientAddress;
      const url = request.routeOptions.url;
      if (url !== undefined) authorize(findPolicy(options.policies, request.method === 'HEAD' ? 'GET' : request.method, url)?.access ?? 'admin', principal);
      done();
    } catch (error) {
      if (!(error instanceof GatewaySignatureError)) {
        done(error as Error);
        return;
      }
      options.onRejected?.(error.reason);
      done(new HttpProblem({ status: 401, slug: 'gateway-required', title: 'Requests must come through the gateway', detail: 'Call the API at its public address.' }));
    }
  });
}
