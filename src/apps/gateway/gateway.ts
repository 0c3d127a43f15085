import type { IncomingHttpHeaders } from 'node:http';
import { Transform, type Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { JWK } from 'jose';
import { createRemoteTokenVerifier, followTokenRevocations } from '../../modules/identity/index.ts';
import type { Config } from '../../platform/config/config.ts';
import { createHttpApp, type HttpApp } from '../../platform/http/app.ts';
import type { RoutePolicy } from '../../platform/http/edge.ts';
import { principalHeader, signatureHeader, signPrincipal } from '../../platform/http/gateway-signature.ts';
import { HttpProblem } from '../../platform/http/problem.ts';
import type { CheckAnswer, ReadinessCheck } from '../../platform/http/readiness.ts';
import { UpstreamHealthChecks } from '../../platform/http/upstream-health-checks.ts';
import {
  RequestBodyError, UnsendableRequestError, UpstreamPool, UpstreamUnavailableError, type CircuitState,
} from '../../platform/http/upstream-pool.ts';
import type { Logger } from '../../platform/logging/logger.ts';
import { circuitStates, createMetrics, type Metrics } from '../../platform/observability/metrics.ts';
import { createOpsServer, type OpsServer } from '../../platform/observability/ops-server.ts';
import { createRateLimiters, edgeOptions, uploadBodyLimit } from '../edge-wiring.ts';
import { routePolicies } from './route-policies.ts';

/** The gateway of the services shape: the public edge in front of services reached over HTTP. */
export interface Gateway {
  app: HttpApp;
  /** One pool (instances, health, circuit) per upstream service, by name. */
  upstreams: ReadonlyMap<string, UpstreamPool>;
  /** The probes of every upstream instance (each distinct instance once), stopped by `close()`. */
  healthChecks: UpstreamHealthChecks;
  metrics: Metrics;
  /** The operations listener (`/metrics`, `/healthz`, `/readyz`), not listening until asked. */
  ops: OpsServer;
  close(): Promise<void>;
}

// Headers that describe one hop, not the message, so are never forwarded either way (nor any
// `proxy-*` header, nor a header the message's own Connection header names). `expect` is answered
// by this hop's HTTP server; the client library refuses to send it on (and `upgrade`,
// `transfer-encoding`, `keep-alive`), which must not look like the upstream's failure.
const hopByHop = new Set(['connection', 'expect', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
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
  const healthChecks = new UpstreamHealthChecks({
    intervalMs: config.GATEWAY_HEALTH_CHECK_INTERVAL_MS,
    timeoutMs: config.GATEWAY_HEALTH_CHECK_TIMEOUT_MS,
    failuresToMarkDown: config.GATEWAY_HEALTH_CHECK_FAILURES,
    passesToMarkUp: config.GATEWAY_HEALTH_CHECK_PASSES,
    onChange: (instance, { up, reason }) => {
      if (up) logger.info({ instance, reason }, 'upstream instance back up: its health probes pass');
      else logger.warn({ instance, reason }, 'upstream instance down: its health probes fail');
    },
  });
  const upstreams = createUpstreams(config, logger, policies, healthChecks, (upstream, state) => {
    metrics.circuitState.set({ upstream }, circuitStates[state]);
    options.onCircuitChange?.(upstream, state);
  });
  const readiness = upstreamReadiness(upstreams, config.GATEWAY_REQUIRED_UPSTREAMS);
  for (const name of upstreams.keys()) metrics.circuitState.set({ upstream: name }, circuitStates.closed);
  const identity = upstreams.get('identity');
  if (identity === undefined) throw new Error('The gateway needs an identity upstream in GATEWAY_UPSTREAMS (identity=... or *=...).');

  // Revocations come through Redis, where identity writes them; without it this gateway cannot see them.
  const revocations = config.REDIS_URL === undefined
    ? undefined
    : followTokenRevocations({ redisUrl: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX, logger });
  if (revocations === undefined) logger.warn('REDIS_URL is unset: this gateway cannot see token revocations, so a logged-out or revoked access token works until it expires');
  const verifier = createRemoteTokenVerifier({
    ...(revocations === undefined ? {} : { revocations }),
    issuer: config.IDENTITY_ISSUER,
    audience: config.IDENTITY_AUDIENCE,
    externalIssuers: config.EXTERNAL_OIDC_ISSUERS,
    clockSkewSeconds: config.JWT_CLOCK_SKEW_SECONDS,
    tokenCacheSize: config.ACCESS_TOKEN_CACHE_SIZE,
    loadKeys: () => fetchSigningKeys(identity, secret, logger),
  });
  const limiters = createRateLimiters(config, logger);
  const ops = createOpsServer({ metrics, readiness, logger });
  const app = createHttpApp({
    logger,
    title: 'OrderStream API gateway',
    bodyLimit: config.BODY_LIMIT_BYTES,
    securityHeaders: true,
    corsOrigins: config.CORS_ORIGINS,
    trustProxy: config.TRUST_PROXY,
    documentation: false,
    readiness,
    metrics,
    routes: [(scoped) => {
      const forwarded = policies.filter((policy) => policy.upstream !== 'gateway');
      const addRoute = (routes: HttpApp, policy: RoutePolicy, bodyLimit: number): void => {
        const pool = upstreams.get(policy.upstream);
        if (pool === undefined) throw new Error(`no upstream ${policy.upstream}`);
        const timeoutMs = policy.timeoutMs ?? config.GATEWAY_TIMEOUT_MS;
        routes.route({
          method: policy.method === '*' ? ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] : policy.method,
          url: policy.url,
          bodyLimit,
          schema: { hide: true },
          handler: (request, reply) => forward(request, reply, { pool, secret, timeoutMs, retryable: policy.retry === true, logger }),
        });
      };
      // Bodies pass through untouched. On ordinary routes a body is read whole, up to
      // BODY_LIMIT_BYTES (413 before the upstream is called: from Content-Length at the edge, or
      // while reading a chunked body), so that a retry can send it again.
      void scoped.register((buffered: HttpApp, _options, done) => {
        buffered.removeAllContentTypeParsers();
        buffered.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, parsed) => { parsed(null, body); });
        for (const policy of forwarded.filter((candidate) => candidate.upload !== true)) addRoute(buffered, policy, config.BODY_LIMIT_BYTES);
        done();
      });
      // On upload routes the body streams through to the service as it arrives, never held whole,
      // and is cut off with 413 past the upload limit; such a request is never retried.
      const uploadLimit = uploadBodyLimit(config);
      void scoped.register((streamed: HttpApp, _options, done) => {
        streamed.removeAllContentTypeParsers();
        streamed.addContentTypeParser('*', (_request, payload, parsed) => { parsed(null, limitedBody(payload, uploadLimit)); });
        for (const policy of forwarded.filter((candidate) => candidate.upload === true)) addRoute(streamed, policy, uploadLimit);
        done();
      });
    }],
    edge: edgeOptions({ config, logger, metrics, policies, verifier, limiters }),
  });
  healthChecks.start();
  const revocationsLoaded = revocations?.start();
  return {
    app,
    upstreams,
    healthChecks,
    metrics,
    ops,
    async close() {
      await app.close();
      await ops.close();
      await limiters.close();
      await revocationsLoaded;
      await revocations?.close();
      await healthChecks.close();
      await Promise.all([...upstreams.values()].map((pool) => pool.close()));
    },
  };
}

/**
 * One readiness check per upstream service: up while one of its instances is healthy (by its
 * probes and its requests) and its circuit is not open, with every instance's state. Only the
 * services GATEWAY_REQUIRED_UPSTREAMS names are required: every gateway sees the same services,
 * so one service down would take all of them out of rotation at once, and with them the routes
 * that still work (503 answers for that service only, the rest as usual).
 */
function upstreamReadiness(upstreams: ReadonlyMap<string, UpstreamPool>, required: readonly string[]): ReadinessCheck[] {
  const unknown = required.filter((name) => name !== '*' && !upstreams.has(name));
  if (unknown.length > 0) throw new Error(`GATEWAY_REQUIRED_UPSTREAMS names ${unknown.join(', ')}, which no route of the gateway uses (known: ${[...upstreams.keys()].join(', ')}).`);
  return [...upstreams.values()].map((pool) => ({
    name: pool.name,
    required: required.includes('*') || required.includes(pool.name),
    check: async (): Promise<CheckAnswer> => {
      await pool.probed();
      const health = pool.health();
      return {
        up: health.up,
        details: { healthyInstances: health.instances.filter((instance) => instance.state === 'healthy').length, circuitOpen: health.circuit === 'open' ? 1 : 0 },
        instances: health.instances.map((instance, index) => ({
          instance: index + 1, url: instance.url, state: instance.state, lastProbeAt: instance.lastProbeAt?.toISOString() ?? null, reason: instance.reason,
        })),
      };
    },
  }));
}

/** One pool per upstream the route table names, with its instances from GATEWAY_UPSTREAMS (or its `*` entry). */
function createUpstreams(
  config: Config, logger: Logger, policies: readonly RoutePolicy[], healthChecks: UpstreamHealthChecks,
  onCircuitChange: ((upstream: string, state: CircuitState) => void) | undefined,
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
      healthChecks,
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
  // body: a Buffer read whole on ordinary routes; on upload routes a Readable streamed through.
  const body = request.body as Buffer | Readable | undefined;
  // What is left of an upload that was not read (refused, or answered early) is never read: the answer closes the connection instead.
  const closeIfUploadUnread = () => { if (body !== undefined && !Buffer.isBuffer(body) && !body.readableEnded) void reply.header('connection', 'close'); };
  try {
    const response = await route.pool.request({
      method: request.method,
      path: request.url,
      headers: forwardedHeaders(request, route.secret, body),
      ...(body === undefined ? {} : { body }),
      timeoutMs: route.timeoutMs,
      retryable: route.retryable,
    });
    void reply.code(response.statusCode).headers(returnedHeaders(response.headers));
    closeIfUploadUnread();
    return await reply.send(response.body);
  } catch (error) {
    closeIfUploadUnread();
    if (error instanceof UnsendableRequestError) {
      route.logger.info({ upstream: error.upstream, err: error.cause }, 'request not forwarded: the client sent what cannot be sent on');
      throw unsendableProblem(error);
    }
    if (!(error instanceof UpstreamUnavailableError)) throw error;
    route.logger.warn({ upstream: error.upstream, kind: error.kind, err: error.cause }, 'upstream unavailable');
    throw unavailableProblem(error);
  }
}

/**
 * An upload's bytes, passed on as they arrive: fails with RequestBodyError past `limit` bytes (a
 * chunked body declares no length the edge could check) or when the client leaves before the end,
 * so that neither is taken for the upstream's failure.
 */
function limitedBody(payload: Readable, limit: number): Readable {
  let received = 0;
  const body = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      received += chunk.length;
      if (received <= limit) {
        callback(null, chunk);
        return;
      }
      payload.unpipe(body);
      callback(new RequestBodyError('too-large', `At most ${limit} bytes are accepted.`));
    },
  });
  const aborted = () => { body.destroy(new RequestBodyError('client-aborted', 'The client closed the connection before the end of the body.')); };
  payload.on('error', aborted);
  payload.on('close', () => { if (!payload.readableEnded) aborted(); });
  // The client library reads a failure from the stream's state once it sends; until then, a failure must not go unheard.
  body.on('error', () => undefined);
  payload.pipe(body);
  return body;
}

function forwardedHeaders(request: FastifyRequest, secret: string, body: Buffer | Readable | undefined): Record<string, string> {
  const isHopByHop = hopByHopOf(request.headers);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || isHopByHop(name) || restated.has(name) || name.startsWith('x-dev-')) continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  // A streamed upload keeps its declared length; a buffered body's length is set by the client library.
  const length = request.headers['content-length'];
  if (length !== undefined && body !== undefined && !Buffer.isBuffer(body)) headers['content-length'] = length;
  // With TRUST_PROXY, the trusted part of the incoming trail is kept; otherwise it starts at this socket's peer.
  const trail = request.ips === undefined ? [request.socket.remoteAddress ?? request.ip] : [...request.ips].reverse();
  return {
    ...headers,
    'x-request-id': request.id,
    'x-forwarded-for': trail.join(', '),
    'x-forwarded-proto': request.protocol,
    ...(request.headers.host === undefined ? {} : { 'x-forwarded-host': request.headers.host }),
    // body: `body` holds the buffered Buffer on ordinary routes; on upload routes it is streamed (a Readable).
    // A streamed body cannot be digested before it is sent: it is signed as `streamed` with its declared length.
    ...signPrincipal({
      principal: request.principal, requestId: request.id, clientAddress: request.ip, secret,
      method: request.method, path: request.url, body: body === undefined || Buffer.isBuffer(body) ? body : 'streamed', contentLength: length,
    }),
  };
}

function returnedHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const isHopByHop = hopByHopOf(headers);
  const returned: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !isHopByHop(name)) returned[name] = value;
  }
  return returned;
}

/** Whether a header of this message belongs to the hop: a hop-by-hop header, `proxy-*`, or one its Connection header names. */
function hopByHopOf(headers: IncomingHttpHeaders): (name: string) => boolean {
  const named = new Set([headers.connection ?? []].flat().join(',').split(',').map((token) => token.trim().toLowerCase()).filter((token) => token !== ''));
  return (name) => hopByHop.has(name) || name.startsWith('proxy-') || named.has(name);
}

/** The answer to a request that could not be sent on through no fault of the upstream's. */
function unsendableProblem(error: UnsendableRequestError): HttpProblem {
  const cause = error.cause;
  if (cause instanceof RequestBodyError && cause.reason === 'too-large') {
    return new HttpProblem({ status: 413, slug: 'body-too-large', title: 'The body is too large', detail: cause.message });
  }
  if (cause instanceof RequestBodyError) {
    return new HttpProblem({ status: 400, slug: 'incomplete-body', title: 'The body did not arrive in full', detail: cause.message });
  }
  return new HttpProblem({ status: 400, slug: 'unforwardable-request', title: 'The request cannot be forwarded', detail: 'A header or the framing of the request cannot be sent on to the service.' });
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
        detail: `${error.kind === 'no-healthy-instance' ? 'No instance of the service is healthy. ' : ''}Retry in ${error.retryAfterSeconds} s.`,
        headers: { 'retry-after': String(error.retryAfterSeconds) },
      });
  }
}

/** The identity service's published signing keys, asked for as the gateway (so the service accepts the request). */
async function fetchSigningKeys(identity: UpstreamPool, secret: string, logger: Logger): Promise<readonly JWK[]> {
  const requestId = `gateway-jwks-${Date.now().toString(36)}`;
  try {
    const response = await identity.request({
      method: 'GET', path: '/.well-known/jwks.json', timeoutMs: 5000, retryable: true,
      headers: { accept: 'application/json', 'x-request-id': requestId, ...signPrincipal({ principal: undefined, requestId, clientAddress: '127.0.0.1', secret, method: 'GET', path: '/.well-known/jwks.json', body: undefined }) },
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
