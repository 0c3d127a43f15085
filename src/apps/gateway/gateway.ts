import type { JWK } from 'jose';
import { createRemoteTokenVerifier, followTokenRevocations } from '../../modules/identity/index.ts';
import type { Config } from '../../platform/config/config.ts';
import { createHttpApp, type HttpApp } from '../../platform/http/app.ts';
import type { RoutePolicy } from '../../platform/http/edge.ts';
import { signPrincipal } from '../../platform/http/gateway-signature.ts';
import { HttpProblem } from '../../platform/http/problem.ts';
import type { CheckAnswer, ReadinessCheck } from '../../platform/http/readiness.ts';
import { registerForwardedRoutes } from '../../platform/http/reverse-proxy.ts';
import { UpstreamHealthChecks } from '../../platform/http/upstream-health-checks.ts';
import { UpstreamPool, type CircuitState } from '../../platform/http/upstream-pool.ts';
import type { Logger } from '../../platform/logging/logger.ts';
import { circuitStates, createMetrics, type Metrics } from '../../platform/observability/metrics.ts';
import { createOpsServer, type OpsServer } from '../../platform/observability/ops-server.ts';
import { consoleFiles } from '../console.ts';
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

/**
 * Builds the gateway without listening: the same edge as the single process (request id, size and
 * type checks, rate limit, token, route policy, in that order), then each route of the table is
 * forwarded to its upstream service with the verified caller signed into the request
 * (src/platform/http/reverse-proxy.ts). A request refused by the edge never reaches an upstream.
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
  const healthChecks = createHealthChecks(config, logger);
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
    routes: [consoleFiles(), (scoped) => {
      registerForwardedRoutes(scoped, {
        policies, upstreams, secret, logger, timeoutMs: config.GATEWAY_TIMEOUT_MS, bodyLimit: config.BODY_LIMIT_BYTES, uploadLimit: uploadBodyLimit(config),
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

/** The probes of every upstream instance (GATEWAY_HEALTH_CHECK_*), each change of an instance's verdict logged. */
function createHealthChecks(config: Config, logger: Logger): UpstreamHealthChecks {
  return new UpstreamHealthChecks({
    intervalMs: config.GATEWAY_HEALTH_CHECK_INTERVAL_MS,
    timeoutMs: config.GATEWAY_HEALTH_CHECK_TIMEOUT_MS,
    failuresToMarkDown: config.GATEWAY_HEALTH_CHECK_FAILURES,
    passesToMarkUp: config.GATEWAY_HEALTH_CHECK_PASSES,
    onChange: (instance, { up, reason }) => {
      if (up) logger.info({ instance, reason }, 'upstream instance back up: its health probes pass');
      else logger.warn({ instance, reason }, 'upstream instance down: its health probes fail');
    },
  });
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
