import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, {
  LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type RawServerDefault,
} from 'fastify';
import fastifyCors from '@fastify/cors';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import fastifyPlugin from 'fastify-plugin';
import {
  hasZodFastifySchemaValidationErrors, jsonSchemaTransform, jsonSchemaTransformObject,
  serializerCompiler, validatorCompiler, type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { z } from 'zod';
import { overloadOf } from '../concurrency/overloaded.ts';
import type { Logger } from '../logging/logger.ts';
import { runWithContext } from '../logging/request-context.ts';
import { runAsActor } from '../audit/audit-context.ts';
import { edgeExposedHeaders, installEdge, type EdgeOptions } from './edge.ts';
import { createClientErrorHandler } from './early-errors.ts';
import { installGatewayTrust, type GatewayTrustSettings } from './gateway-signature.ts';
import { HttpProblem, invalidRequest, problemSchema, problemTypeBase, type FieldError, type Problem } from './problem.ts';
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

const readinessChecksSchema = z.record(z.string(), z.object({
  status: z.enum(['up', 'down', 'timeout']), required: z.boolean(), durationMs: z.number(),
  details: z.record(z.string(), z.number()).optional(),
  instances: z.array(z.object({
    instance: z.number().int(), state: z.enum(['healthy', 'ejected', 'down']), lastProbeAt: z.string().nullable(), reason: z.string(),
  })).optional(),
}));

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

/** Longer path parameters (ids, SKUs) are refused by the router with 414 before any route runs. */
const maxPathParameterLength = 100;

/**
 * Builds the HTTP app without listening, so tests drive it with `inject()`. Every request gets a
 * request id (a well-formed incoming `x-request-id` is kept), echoed in the response and present in
 * every log line written on its behalf; every error leaves as RFC 9457 problem+json, including
 * those the router and Node's HTTP parser raise before any hook runs.
 */
export function createHttpApp(options: {
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
}): HttpApp {
  const { logger } = options;
  const headersOfEveryResponse = options.securityHeaders === true ? securityHeaders : undefined;
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
  // Security headers and CORS come before the edge, so a refused request (401, 429) still carries
  // them and a browser can read its problem+json; a CORS preflight is answered here, before the
  // edge, because it carries no credentials.
  if (headersOfEveryResponse !== undefined) {
    app.addHook('onRequest', (_request, reply, done) => {
      void reply.headers(headersOfEveryResponse);
      done();
    });
  }
  if (options.corsOrigins !== undefined && options.corsOrigins.length > 0) {
    void app.register(fastifyCors, {
      origin: [...options.corsOrigins],
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-request-id'],
      exposedHeaders: edgeExposedHeaders,
      maxAge: 600,
    });
  }
  // As the router refuses a path it cannot decode, so a query (its parser would keep `%zz` as it
  // is): after the security and CORS headers, so a browser can read the refusal, before the edge.
  // These hooks are registered as plugins (not added directly) so that they run after those of the
  // plugins above; fastify-plugin keeps them on the app itself, not in a scope of their own.
  void app.register(fastifyPlugin((instance: HttpApp, _options: unknown, done: () => void) => {
    instance.addHook('onRequest', (request, _reply, next) => { next(hasMalformedQuery(request.url) ? malformedQueryProblem() : undefined); });
    done();
  }));
  const { edge } = options;
  if (edge !== undefined && options.gatewayTrust !== undefined) throw new Error('an app is either the public edge or behind a gateway, not both');
  if (edge !== undefined) void app.register(fastifyPlugin((instance: HttpApp, _options: unknown, done: () => void) => { installEdge(instance, edge); done(); }));
  const { gatewayTrust } = options;
  if (gatewayTrust !== undefined) {
    void app.register(fastifyPlugin((instance: HttpApp, _options: unknown, done: () => void) => {
      installGatewayTrust(instance, { ...gatewayTrust, onRejected: (reason) => { logger.warn({ reason }, 'request without a valid gateway signature refused'); } });
      done();
    }));
  }
  const { metrics } = options;
  /** The access-log line and the request metric of every answered request. */
  function requestCompleted(completed: { requestId: string; method: string; route: string; statusCode: number; elapsedMs: number }): void {
    const { requestId, method, route, statusCode, elapsedMs } = completed;
    logger.info({ requestId, method, route, statusCode, durationMs: Math.round(elapsedMs * 100) / 100 }, 'request completed');
    metrics?.requestCompleted({ method, route, statusCode }, elapsedMs / 1000);
  }
  app.addHook('onResponse', (request, reply, done) => {
    requestCompleted({
      requestId: request.id, method: request.method, route: request.routeOptions.url ?? 'unmatched', statusCode: reply.statusCode, elapsedMs: reply.elapsedTime,
    });
    done();
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const overload = overloadOf(error);
    if (overload !== undefined) {
      // A bounded resource stayed full (database connections, password hashing): refused early, not queued.
      logger.info({ requestId: request.id, resource: overload.resource }, 'request refused: at capacity');
      return reply.status(503).header('retry-after', String(overload.retryAfterSeconds)).type('application/problem+json').send({
        type: `${problemTypeBase}overloaded`, title: 'Overloaded', status: 503,
        detail: `The service is at capacity (${overload.resource}); try again after ${String(overload.retryAfterSeconds)} s.`,
        instance: request.url, requestId: request.id,
      } satisfies Problem);
    }
    const problem = toProblem(error, request.url, request.id);
    if (error instanceof HttpProblem) void reply.headers(error.headers);
    // An HttpProblem is an answer chosen on purpose (a 503 of an unavailable upstream), not a failure.
    if (problem.status >= 500 && !(error instanceof HttpProblem)) {
      logger.error({ err: error, requestId: request.id }, 'request failed with an unexpected error');
    }
    return reply.status(problem.status).type('application/problem+json').send(problem);
  });
  app.setNotFoundHandler((request, reply) => {
    const problem: Problem = {
      type: `${problemTypeBase}not-found`, title: 'Not found', status: 404,
      detail: `No route for ${request.method} ${request.url.split('?')[0] ?? ''}`, instance: request.url, requestId: request.id,
    };
    return reply.status(404).type('application/problem+json').send(problem);
  });

  const documentation = options.documentation ?? true;
  if (documentation) registerDocumentation(app, options.title);

  void app.register((scoped: HttpApp, _options, done) => {
    if (documentation) scoped.get('/openapi.json', { schema: { hide: true } }, () => scoped.swagger());
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
      const report = await runReadinessChecks(options.readiness, { timeoutMs: options.readinessTimeoutMs ?? 2000 });
      const checks = withoutAddresses(report.checks);
      if (report.ready) return { status: report.degraded ? 'degraded' as const : 'ready' as const, checks };
      const failing = Object.entries(report.checks).filter(([, result]) => result.status !== 'up' && result.required);
      return reply.status(503).type('application/problem+json').send({
        type: `${problemTypeBase}not-ready`, title: 'Not ready', status: 503,
        detail: `Not answering: ${failing.map(([name, result]) => `${name} (${result.status})`).join(', ')}`,
        instance: request.url, requestId: request.id, checks,
      });
    });
    for (const register of options.routes) register(scoped);
    done();
  });
  return app;
}

function malformedQueryProblem(): HttpProblem {
  return new HttpProblem({
    status: 400, slug: 'malformed-url', title: 'The URL is not valid',
    detail: 'The query string\'s percent-encoded bytes must be % and two hex digits, decoding to UTF-8.',
  });
}

function registerDocumentation(app: HttpApp, title: string | undefined): void {
  void app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: title ?? 'OrderStream API', version: '1.0.0', description: 'Errors are RFC 9457 problem+json.' },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  // The page loads only its own scripts and styles (hashed by the plugin); it is served over plain
  // HTTP in development, so requests are not upgraded to HTTPS.
  void app.register(fastifySwaggerUi, {
    routePrefix: '/docs', staticCSP: true, transformStaticCSP: (header) => header.replace(/\s*upgrade-insecure-requests;?/, ''),
  });
}

function toProblem(error: FastifyError, instance: string, requestId: string): Problem {
  if (error instanceof HttpProblem) return error.toProblem(instance, requestId);
  const base = { instance, requestId };
  if (hasZodFastifySchemaValidationErrors(error)) {
    const location = error.validationContext ?? 'body';
    const errors: FieldError[] = error.validation.map((issue) => ({
      location,
      field: issue.instancePath.replace(/^\//, '').replaceAll('/', '.'),
      message: issue.message ?? 'is not valid',
    }));
    return {
      type: `${problemTypeBase}validation-error`, title: 'The request is not valid', status: 400,
      detail: errors.map((fieldError) => `${fieldError.location} ${fieldError.field === '' ? '' : `${fieldError.field}: `}${fieldError.message}`).join('; '),
      errors, ...base,
    };
  }
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { type: `${problemTypeBase}malformed-json`, title: 'The body is not valid JSON', status: 400, detail: error.message, ...base };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { type: `${problemTypeBase}body-too-large`, title: 'The body is too large', status: 413, detail: error.message, ...base };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { type: `${problemTypeBase}unsupported-media-type`, title: 'Unsupported content type', status: 415, detail: error.message, ...base };
    case 'FST_ERR_BAD_URL':
      return {
        type: `${problemTypeBase}malformed-url`, title: 'The URL is not valid', status: 400,
        detail: 'The path must begin with / and its percent-encoded bytes must decode to UTF-8.', ...base,
      };
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return {
        type: `${problemTypeBase}path-parameter-too-long`, title: 'A path parameter is too long', status: 414,
        detail: `A path parameter is longer than ${maxPathParameterLength} characters.`, ...base,
      };
    default:
      break;
  }
  if (error instanceof SyntaxError) {
    return { type: `${problemTypeBase}malformed-json`, title: 'The body is not valid JSON', status: 400, detail: error.message, ...base };
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    return { type: `${problemTypeBase}bad-request`, title: 'The request cannot be processed', status, detail: error.message, ...base };
  }
  return { type: `${problemTypeBase}internal-error`, title: 'Internal error', status: 500, detail: 'An unexpected error occurred; it has been logged with this request id.', ...base };
}
