import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { JWK } from 'jose';
import { createRemoteTokenVerifier } from '../../modules/identity/index.ts';
import type { Config } from '../../platform/config/config.ts';
import { createHttpApp, type HttpApp } from '../../platform/http/app.ts';
import type { RoutePolicy } from '../../platform/http/edge.ts';
import { principalHeader, signatureHeader, signPrincipal } from '../../platform/http/gateway-signature.ts';
import { HttpProblem } from '../../platform/http/problem.ts';
import { UpstreamPool, UpstreamUnavailableError, type CircuitState } from '../../platform/http/upstream-pool.ts';
import type { Logger } from '../../platform/logging/logger.ts';
import { circuitStates, createMetrics, type Metrics } from '../../platform/observability/metrics.ts';
import { createOpsServer, type OpsServer } from '../../platform/observability/ops-server.ts';
import { createRateLimiters, edgeOptions } from '../edge-wiring.ts';
import { routePolicies } from './route-policies.ts';

/** The gateway of the services shape: the public edge in front of services reached over HTTP. */
export interface Gateway {
  app: HttpApp;
  /** One pool (instances, health, circuit) per upstream service, by name. */
  upstreams: ReadonlyMap<string, UpstreamPool>;
  metrics: Metrics;
  /** The operations listener (`/metrics`, `/healthz`, `/readyz`), not listening until asked. */
  ops: OpsServer;
  close(): Promise<void>;
}

// Headers that describe one connection, not the message: never forwarded either way.
const hopByHop = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
// What the gateway states itself, so a client's copies are dropped: its verdict on who is calling, and the forwarding trail.
const restated = new Set(['host', 'authorization', 'cookie', 'content-length', principalHeader, signatureHeader, 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-request-id']);

/**
 * Builds the gateway without listening: the same edge as the single process (request id, size and
 * type checks, rate limit, token, route policy, in that order), then each route of the table is
 * forwarded to its upstream service with the verified caller signed into the request. A request
 * refused by the edge never reaches an upstream.
 */
export function createGateway(options: {
  config: Config;
  logger: Logger;
  policies?: readonly RoutePolicy[];
  onCircuitChange?: (upstream: string, state: CircuitState) => void;
}): Gateway {
  const { config, logger } = options;
  const policies = options.policies ?? routePolicies;
  const secret = config.GATEWAY_SECRET;
  if (secret === undefined) throw new Error('The gateway needs GATEWAY_SECRET (shared with the services behind it).');
  const metrics = createMetrics({ logger });
  const upstreams = createUpstreams(config, logger, policies, (upstream, state) => {
    metrics.circuitState.set({ upstream }, circuitStates[state]);
    options.onCircuitChange?.(upstream, state);
  });
  for (const name of upstreams.keys()) metrics.circuitState.set({ upstream: name }, circuitStates.closed);
  const identity = upstreams.get('identity');
  if (identity === undefined) throw new Error('The gateway needs an identity upstream in GATEWAY_UPSTREAMS (identity=... or *=...).');

  const verifier = createRemoteTokenVerifier({
    issuer: config.IDENTITY_ISSUER,
    audience: config.IDENTITY_AUDIENCE,
    externalIssuers: config.EXTERNAL_OIDC_ISSUERS,
    clockSkewSeconds: config.JWT_CLOCK_SKEW_SECONDS,
    tokenCacheSize: config.ACCESS_TOKEN_CACHE_SIZE,
    loadKeys: () => fetchSigningKeys(identity, secret, logger),
  });
  const limiters = createRateLimiters(config, logger);
  // Upstreams are reported, not required: a gateway in front of a service that is down still
  // answers (503 for that service, everything else as usual), so it must stay in rotation.
  const readiness = [...upstreams.values()].map((pool) => ({ name: pool.name, check: () => Promise.resolve(pool.available), required: false }));
  const ops = createOpsServer({ metrics, readiness, logger });
  const app = createHttpApp({
    logger,
    title: 'OrderStream API gateway',
    bodyLimit: Math.max(config.BODY_LIMIT_BYTES, config.IMPORT_MAX_BYTES),
    securityHeaders: true,
    corsOrigins: config.CORS_ORIGINS,
    trustProxy: config.TRUST_PROXY,
    documentation: false,
    readiness,
    metrics,
    routes: [(scoped) => {
      // Bodies pass through untouched: small ones are buffered (so a retry can send them again),
      // uploads are streamed.
      scoped.removeAllContentTypeParsers();
      scoped.addContentTypeParser('multipart/form-data', (_request, payload, done) => { done(null, payload); });
      scoped.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => { done(null, body); });
      for (const policy of policies) {
        if (policy.upstream === 'gateway') continue;
        const pool = upstreams.get(policy.upstream);
        if (pool === undefined) throw new Error(`no upstream ${policy.upstream}`);
        const timeoutMs = policy.timeoutMs ?? config.GATEWAY_TIMEOUT_MS;
        scoped.route({
          method: policy.method === '*' ? ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] : policy.method,
          url: policy.url,
          schema: { hide: true },
          handler: (request, reply) => forward(request, reply, { pool, secret, timeoutMs, retryable: policy.retry === true, logger }),
        });
      }
    }],
    edge: edgeOptions({ config, logger, metrics, policies, verifier, limiters }),
  });
  return {
    app,
    upstreams,
    metrics,
    ops,
    async close() {
      await app.close();
      await ops.close();
      await limiters.close();
      await Promise.all([...upstreams.values()].map((pool) => pool.close()));
    },
  };
}

/** One pool per upstream the route table names, with its instances from GATEWAY_UPSTREAMS (or its `*` entry). */
function createUpstreams(
  config: Config, logger: Logger, policies: readonly RoutePolicy[], onCircuitChange: ((upstream: string, state: CircuitState) => void) | undefined,
): Map<string, UpstreamPool> {
  const names = new Set(['identity', ...policies.map((policy) => policy.upstream).filter((name) => name !== 'gateway')]);
  const missing = [...names].filter((name) => config.GATEWAY_UPSTREAMS[name] === undefined && config.GATEWAY_UPSTREAMS['*'] === undefined);
  if (missing.length > 0) throw new Error(`GATEWAY_UPSTREAMS names no instances for ${missing.join(', ')} (and has no "*" entry).`);
  const pools = new Map<string, UpstreamPool>();
  for (const name of names) {
    pools.set(name, new UpstreamPool({
      name,
      instances: config.GATEWAY_UPSTREAMS[name] ?? config.GATEWAY_UPSTREAMS['*'] ?? [],
      failuresToEject: config.GATEWAY_FAILURES_TO_EJECT,
      ejectMs: config.GATEWAY_EJECT_MS,
      breakerErrorPercentage: config.GATEWAY_BREAKER_ERROR_PERCENT,
      breakerWindowMs: config.GATEWAY_BREAKER_WINDOW_MS,
      breakerResetMs: config.GATEWAY_BREAKER_RESET_MS,
      onCircuitChange: (state) => {
        logger.warn({ upstream: name, circuit: state }, 'upstream circuit changed');
        onCircuitChange?.(name, state);
      },
      onInstanceEjected: (instance) => { logger.warn({ upstream: name, instance }, 'upstream instance taken out of rotation'); },
    }));
  }
  return pools;
}

async function forward(
  request: FastifyRequest, reply: FastifyReply,
  route: { pool: UpstreamPool; secret: string; timeoutMs: number; retryable: boolean; logger: Logger },
): Promise<FastifyReply> {
  const body = request.body as Buffer | Readable | undefined;
  try {
    const response = await route.pool.request({
      method: request.method,
      path: request.url,
      headers: forwardedHeaders(request, route.secret),
      ...(body === undefined ? {} : { body }),
      timeoutMs: route.timeoutMs,
      retryable: route.retryable,
    });
    void reply.code(response.statusCode).headers(returnedHeaders(response.headers));
    return await reply.send(response.body);
  } catch (error) {
    if (!(error instanceof UpstreamUnavailableError)) throw error;
    route.logger.warn({ upstream: error.upstream, kind: error.kind, err: error.cause }, 'upstream unavailable');
    throw unavailableProblem(error);
  }
}

function forwardedHeaders(request: FastifyRequest, secret: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || hopByHop.has(name) || restated.has(name) || name.startsWith('x-dev-')) continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  // A streamed upload keeps its declared length; a buffered body's length is set by the client library.
  const length = request.headers['content-length'];
  if (length !== undefined && request.body !== undefined && !Buffer.isBuffer(request.body)) headers['content-length'] = length;
  // With TRUST_PROXY, the trusted part of the incoming trail is kept; otherwise it starts at this socket's peer.
  const trail = request.ips === undefined ? [request.socket.remoteAddress ?? request.ip] : [...request.ips].reverse();
  return {
    ...headers,
    'x-request-id': request.id,
    'x-forwarded-for': trail.join(', '),
    'x-forwarded-proto': request.protocol,
    ...(request.headers.host === undefined ? {} : { 'x-forwarded-host': request.headers.host }),
    ...signPrincipal({ principal: request.principal, requestId: request.id, clientAddress: request.ip, secret }),
  };
}

function returnedHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const returned: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !hopByHop.has(name)) returned[name] = value;
  }
  return returned;
}

function unavailableProblem(error: UpstreamUnavailableError): HttpProblem {
  switch (error.kind) {
    case 'timeout':
      return new HttpProblem({ status: 504, slug: 'upstream-timeout', title: 'The service did not answer in time', detail: 'Try again; if it was an order, send the same Idempotency-Key.' });
    case 'connection-failed':
      return new HttpProblem({ status: 502, slug: 'upstream-unreachable', title: 'The service could not be reached', detail: 'Try again shortly.' });
    case 'circuit-open':
    case 'no-healthy-instance':
      return new HttpProblem({
        status: 503, slug: 'service-unavailable', title: 'The service is unavailable',
        detail: `Retry in ${error.retryAfterSeconds} s.`, headers: { 'retry-after': String(error.retryAfterSeconds) },
      });
  }
}

/** The identity service's published signing keys, asked for as the gateway (so the service accepts the request). */
async function fetchSigningKeys(identity: UpstreamPool, secret: string, logger: Logger): Promise<readonly JWK[]> {
  const requestId = `gateway-jwks-${Date.now().toString(36)}`;
  try {
    const response = await identity.request({
      method: 'GET', path: '/.well-known/jwks.json', timeoutMs: 5000, retryable: true,
      headers: { accept: 'application/json', 'x-request-id': requestId, ...signPrincipal({ principal: undefined, requestId, clientAddress: '127.0.0.1', secret }) },
    });
    if (response.statusCode !== 200) {
      await response.body.dump();
      throw new Error(`identity answered ${response.statusCode}`);
    }
    const jwks = await response.body.json() as { keys?: JWK[] };
    return jwks.keys ?? [];
  } catch (error) {
    logger.warn({ err: error }, 'signing keys could not be fetched from the identity service');
    throw new HttpProblem({
      status: 503, slug: 'service-unavailable', title: 'Tokens cannot be checked right now',
      detail: 'The identity service is unavailable; retry in a few seconds.', headers: { 'retry-after': '2' },
    });
  }
}
