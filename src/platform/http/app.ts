import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, {
  LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type RawServerDefault,
} from 'fastify';
import fastifyCors from '@fastify/cors';
import fastifyPlugin from 'fastify-plugin';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Logger } from '../logging/logger.ts';
import { runWithContext } from '../logging/request-context.ts';
import { runAsActor } from '../audit/audit-context.ts';
import { registerDocumentation } from './api-documentation.ts';
import { edgeExposedHeaders, installEdge, type EdgeOptions } from './edge.ts';
import { createClientErrorHandler } from './early-errors.ts';
import { installErrorHandlers, malformedQueryProblem, maxPathParameterLength, toProblem } from './error-problems.ts';
import type { GatewayTrustSettings } from './gateway-signature.ts';
import { installGatewayTrust } from './gateway-trust.ts';
import { invalidRequest, problemSchema, problemTypeBase } from './problem.ts';
import { runReadinessChecks, withoutAddresses, type ReadinessCheck } from './readiness.ts';
import { hasMalformedQuery, nulCharacterErrors } from './request-text.ts';
import { securityHeaders } from './security-headers.ts';

export type { ReadinessCheck } from './readiness.ts';

/** The fastify instance every inbound HTTP adapter registers its routes on. */
export type HttpApp = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;

/** A module's routes, registered on the app by the composition root. */
export type RouteRegistration = (app: HttpApp) => void;

/** What the app reports about the requests it serves (port): implemented with a Prometheus histogram. */
export interface HttpMetrics {
  /** `route` is the route template (`/v1/orders/:id`), or `unmatched` when no route matched. */
  requestCompleted(request: { method: string; route: string; statusCode: number }, seconds: number): void;
}

/** What an app is built from: its routes and probes, and the checks and headers around them. */
export interface HttpAppOptions {
  logger: Logger;
  bodyLimit: number;
  routes: readonly RouteRegistration[];
  readiness: readonly ReadinessCheck[];
  /** How long `/readyz` waits for each check before reporting it timed out (default 2000). */
  readinessTimeoutMs?: number;
  /** Request counts and latencies by route template, method and status. */
  metrics?: HttpMetrics;
  title?: string;
  /** The edge's checks (rate limit, tokens, route policies); absent in module tests that call routes directly. */
  edge?: EdgeOptions;
  /** Security headers (helmet's defaults, src/platform/http/security-headers.ts) on every response; off unless asked, so module tests stay minimal. */
  securityHeaders?: boolean;
  /** Browser origins allowed to call the API (CORS_ORIGINS); absent or empty: no CORS headers at all. */
  corsOrigins?: readonly string[];
  /**
   * Behind a gateway: every request but the probes must carry the gateway's signed caller
   * (GATEWAY_SECRET), bound to the request's method, URL and body and used once, instead of
   * passing the public edge. Exclusive with `edge`.
   */
  gatewayTrust?: GatewayTrustSettings;
  /** Which proxies may set X-Forwarded-For (TRUST_PROXY); none by default. */
  trustProxy?: boolean | string;
  /** Serve /openapi.json and /docs from this app's routes; true by default (a gateway forwards them instead). */
  documentation?: boolean;
}

const readinessChecksSchema = z.record(z.string(), z.object({
  status: z.enum(['up', 'down', 'timeout']), required: z.boolean(), durationMs: z.number(),
  details: z.record(z.string(), z.number()).optional(),
  instances: z.array(z.object({
    instance: z.number().int(), state: z.enum(['healthy', 'ejected', 'down']), lastProbeAt: z.string().nullable(), reason: z.string(),
  })).optional(),
}));

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

/** One answered request, as the access log and the request metric record it. */
interface CompletedRequest {
  requestId: string;
  method: string;
  route: string;
  statusCode: number;
  elapsedMs: number;
}

/**
 * Builds the HTTP app without listening, so tests drive it with `inject()`. Every request gets a
 * request id (a well-formed incoming `x-request-id` is kept), echoed in the response and present in
 * every log line written on its behalf; every error leaves as RFC 9457 problem+json, including
 * those the router and Node's HTTP parser raise before any hook runs.
 */
export function createHttpApp(options: HttpAppOptions): HttpApp {
  const { logger } = options;
  const headersOfEveryResponse = options.securityHeaders === true ? securityHeaders : undefined;
  const requestCompleted = accessLog(logger, options.metrics);
  const app = Fastify<RawServerDefault>({
    loggerInstance: logger,
    // Request-scoped fields come from the log context, not from per-request child loggers.
    childLoggerFactory: (parent) => parent,
    // One access-log line per request is written by the onResponse hook below instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit,
    genReqId: (request) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && requestIdPattern.test(incoming) ? incoming : randomUUID();
    },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: maxPathParameterLength },
    // The router refuses a URL it cannot decode or a path parameter too long before any hook runs,
    // so the request id and security headers the hooks would add are added here.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const problem = toProblem(error, request.url, request.id);
      if (problem.status >= 500) logger.error({ err: error, requestId: request.id }, 'request failed with an unexpected error');
      void reply.headers({ ...headersOfEveryResponse, 'x-request-id': request.id }).status(problem.status).type('application/problem+json').send(problem);
      requestCompleted({ requestId: request.id, method: request.method, route: 'unmatched', statusCode: problem.status, elapsedMs: reply.elapsedTime });
    },
    clientErrorHandler: createClientErrorHandler({ logger, headers: headersOfEveryResponse }),
    trustProxy: options.trustProxy ?? false,
  }).withTypeProvider<ZodTypeProvider>();

  // The API speaks JSON only: any other body type is refused with 415 rather than parsed as text.
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  // Hooks of one kind run in the order they are added: these calls keep that order.
  installRequestContext(app);
  installResponseHeaders(app, headersOfEveryResponse, options.corsOrigins);
  installCallerChecks(app, options);
  app.addHook('onResponse', (request, reply, done) => {
    requestCompleted({
      requestId: request.id, method: request.method, route: request.routeOptions.url ?? 'unmatched', statusCode: reply.statusCode, elapsedMs: reply.elapsedTime,
    });
    done();
  });
  installErrorHandlers(app, logger);

  const documentation = options.documentation ?? true;
  if (documentation) registerDocumentation(app, options.title, options.edge?.policies ?? options.gatewayTrust?.policies ?? []);

  void app.register((scoped: HttpApp, _options, done) => {
    if (documentation) scoped.get('/openapi.json', { schema: { hide: true } }, () => scoped.swagger());
    registerProbeRoutes(scoped, options.readiness, options.readinessTimeoutMs ?? 2000);
    for (const register of options.routes) register(scoped);
    done();
  });
  return app;
}

/** The access-log line and the request metric of every answered request. */
function accessLog(logger: Logger, metrics: HttpMetrics | undefined): (completed: CompletedRequest) => void {
  return (completed) => {
    const { requestId, method, route, statusCode, elapsedMs } = completed;
    logger.info({ requestId, method, route, statusCode, durationMs: Math.round(elapsedMs * 100) / 100 }, 'request completed');
    metrics?.requestCompleted({ method, route, statusCode }, elapsedMs / 1000);
  };
}

/** The request id, the log context and the audit actor of every request, and no text a use case cannot hold. */
function installRequestContext(app: HttpApp): void {
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    runWithContext({ requestId: request.id }, done);
  });
  // After every onRequest hook (the edge or the gateway's signature names the principal): the actor,
  // address and request id an admin act of this request is recorded with (src/platform/audit).
  app.addHook('preHandler', (request, _reply, done) => {
    const principal = request.principal;
    runAsActor({
      id: principal?.id ?? 'anonymous', ...(principal === undefined ? {} : { email: principal.email }),
      clientAddress: request.clientAddress ?? request.ip, requestId: request.id,
    }, done);
  });
  // Before any schema or handler, for every route: no text with a NUL or a lone surrogate reaches a use case or PostgreSQL.
  app.addHook('preValidation', (request, _reply, done) => {
    const errors = nulCharacterErrors({ params: request.params, querystring: request.query, body: request.body, headers: request.headers });
    done(errors.length === 0 ? undefined : invalidRequest(`The request holds text no field may hold (the NUL character U+0000, or a lone surrogate): ${errors.map((error) => `${error.location} ${error.field}`).join(', ')}`, errors));
  });
}

/**
 * Security headers and CORS come before the edge, so a refused request (401, 429) still carries
 * them and a browser can read its problem+json; a CORS preflight is answered here, before the
 * edge, because it carries no credentials.
 */
function installResponseHeaders(app: HttpApp, headersOfEveryResponse: Readonly<Record<string, string>> | undefined, corsOrigins: readonly string[] | undefined): void {
  if (headersOfEveryResponse !== undefined) {
    app.addHook('onRequest', (_request, reply, done) => {
      void reply.headers(headersOfEveryResponse);
      done();
    });
  }
  if (corsOrigins !== undefined && corsOrigins.length > 0) {
    void app.register(fastifyCors, {
      origin: [...corsOrigins],
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-request-id'],
      exposedHeaders: edgeExposedHeaders,
      maxAge: 600,
    });
  }
}

/**
 * What a request must pass before its route: a well-formed query string, then the public edge or
 * the gateway's signature (never both).
 */
function installCallerChecks(app: HttpApp, options: Pick<HttpAppOptions, 'logger' | 'edge' | 'gatewayTrust'>): void {
  // As the router refuses a path it cannot decode, so a query (its parser would keep `%zz` as it
  // is): after the security and CORS headers, so a browser can read the refusal, before the edge.
  // These hooks are registered as plugins (not added directly) so that they run after those of the
  // plugins above; fastify-plugin keeps them on the app itself, not in a scope of their own.
  void app.register(fastifyPlugin((instance: HttpApp, _options: unknown, done: () => void) => {
    instance.addHook('onRequest', (request, _reply, next) => { next(hasMalformedQuery(request.url) ? malformedQueryProblem() : undefined); });
    done();
  }));
  const { edge, gatewayTrust, logger } = options;
  if (edge !== undefined && gatewayTrust !== undefined) throw new Error('an app is either the public edge or behind a gateway, not both');
  if (edge !== undefined) void app.register(fastifyPlugin((instance: HttpApp, _options: unknown, done: () => void) => { installEdge(instance, edge); done(); }));
  if (gatewayTrust !== undefined) {
    void app.register(fastifyPlugin((instance: HttpApp, _options: unknown, done: () => void) => {
      installGatewayTrust(instance, { ...gatewayTrust, onRejected: (reason) => { logger.warn({ reason }, 'request without a valid gateway signature refused'); } });
      done();
    }));
  }
}

/** `/healthz` (the process is alive) and `/readyz` (every required dependency answers in time). */
function registerProbeRoutes(scoped: HttpApp, readiness: readonly ReadinessCheck[], timeoutMs: number): void {
  scoped.get('/healthz', {
    schema: { tags: ['ops'], summary: 'The process is alive', response: { 200: z.object({ status: z.literal('ok') }) } },
  }, () => ({ status: 'ok' as const }));
  scoped.get('/readyz', {
    schema: {
      tags: ['ops'], summary: 'Every required dependency answers (each checked with a time limit)',
      response: {
        200: z.object({ status: z.enum(['ready', 'degraded']), checks: readinessChecksSchema }),
        503: problemSchema.extend({ checks: readinessChecksSchema }),
      },
    },
  }, async (request, reply) => {
    const report = await runReadinessChecks(readiness, { timeoutMs });
    const checks = withoutAddresses(report.checks);
    if (report.ready) return { status: report.degraded ? 'degraded' as const : 'ready' as const, checks };
    const failing = Object.entries(report.checks).filter(([, result]) => result.status !== 'up' && result.required);
    return reply.status(503).type('application/problem+json').send({
      type: `${problemTypeBase}not-ready`, title: 'Not ready', status: 503,
      detail: `Not answering: ${failing.map(([name, result]) => `${name} (${result.status})`).join(', ')}`,
      instance: request.url, requestId: request.id, checks,
    });
  });
}
