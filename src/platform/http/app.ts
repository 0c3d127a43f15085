import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type RawServerDefault } from 'fastify';
import fastifyCors from '@fastify/cors';
import fastifyHelmet from '@fastify/helmet';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import {
  hasZodFastifySchemaValidationErrors, jsonSchemaTransform, jsonSchemaTransformObject,
  serializerCompiler, validatorCompiler, type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Logger } from '../logging/logger.ts';
import { runWithContext } from '../logging/request-context.ts';
import { edgeExposedHeaders, installEdge, type EdgeOptions } from './edge.ts';
import { HttpProblem, problemSchema, problemTypeBase, type FieldError, type Problem } from './problem.ts';

/** The fastify instance every inbound HTTP adapter registers its routes on. */
export type HttpApp = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;

/** A module's routes, registered on the app by the composition root. */
export type RouteRegistration = (app: HttpApp) => void;

/** A dependency `/readyz` checks; resolves true when usable. */
export interface ReadinessCheck {
  name: string;
  check: () => Promise<boolean>;
}

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Builds the HTTP app without listening, so tests drive it with `inject()`. Every request gets a
 * request id (a well-formed incoming `x-request-id` is kept), echoed in the response and present in
 * every log line written on its behalf; every error leaves as RFC 9457 problem+json.
 */
export function createHttpApp(options: {
  logger: Logger;
  bodyLimit: number;
  routes: readonly RouteRegistration[];
  readiness: readonly ReadinessCheck[];
  title?: string;
  /** The edge's checks (rate limit, tokens, route policies); absent in module tests that call routes directly. */
  edge?: EdgeOptions;
  /** Security headers (helmet) on every response; off unless asked, so module tests stay minimal. */
  securityHeaders?: boolean;
  /** Browser origins allowed to call the API (CORS_ORIGINS); absent or empty: no CORS headers at all. */
  corsOrigins?: readonly string[];
}): HttpApp {
  const { logger } = options;
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
    routerOptions: { ignoreTrailingSlash: true },
  }).withTypeProvider<ZodTypeProvider>();

  // The API speaks JSON only: any other body type is refused with 415 rather than parsed as text.
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    runWithContext({ requestId: request.id }, done);
  });
  // Security headers and CORS come before the edge, so a refused request (401, 429) still carries
  // them and a browser can read its problem+json; a CORS preflight is answered here, before the
  // edge, because it carries no credentials.
  if (options.securityHeaders === true) {
    void app.register(fastifyHelmet, {
      global: true,
      // The API answers JSON only: nothing may load or frame it. /docs sets its own policy below.
      contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
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
  const { edge } = options;
  // Registered (not added directly) so that its hook runs after those of the plugins above.
  if (edge !== undefined) void app.register(Object.assign((instance: HttpApp, _options: unknown, done: () => void) => { installEdge(instance, edge); done(); }, { [Symbol.for('skip-override')]: true }));
  app.addHook('onResponse', (request, reply, done) => {
    logger.info({
      requestId: request.id,
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      statusCode: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime * 100) / 100,
    }, 'request completed');
    done();
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const problem = toProblem(error, request.url, request.id);
    if (error instanceof HttpProblem) void reply.headers(error.headers);
    if (problem.status >= 500) {
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

  void app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: options.title ?? 'OrderStream API', version: '1.0.0', description: 'Errors are RFC 9457 problem+json.' },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  // The page loads only its own scripts and styles (hashed by the plugin); it is served over plain
  // HTTP in development, so requests are not upgraded to HTTPS.
  void app.register(fastifySwaggerUi, {
    routePrefix: '/docs', staticCSP: true, transformStaticCSP: (header) => header.replace(/\s*upgrade-insecure-requests;?/, ''),
  });

  void app.register((scoped: HttpApp, _options, done) => {
    scoped.get('/openapi.json', { schema: { hide: true } }, () => scoped.swagger());
    scoped.get('/healthz', {
      schema: { tags: ['ops'], summary: 'The process is alive', response: { 200: z.object({ status: z.literal('ok') }) } },
    }, () => ({ status: 'ok' as const }));
    scoped.get('/readyz', {
      schema: {
        tags: ['ops'], summary: 'Every dependency answers',
        response: {
          200: z.object({ status: z.literal('ready'), checks: z.record(z.string(), z.boolean()) }),
          503: problemSchema,
        },
      },
    }, async (request, reply) => {
      const results = await Promise.all(options.readiness.map(async ({ name, check }) => [name, await check().catch(() => false)] as const));
      const checks = Object.fromEntries(results);
      if (results.every(([, ok]) => ok)) return { status: 'ready' as const, checks };
      const failing = results.filter(([, ok]) => !ok).map(([name]) => name);
      return reply.status(503).type('application/problem+json').send({
        type: `${problemTypeBase}not-ready`, title: 'Not ready', status: 503,
        detail: `Not answering: ${failing.join(', ')}`, instance: request.url, requestId: request.id,
      });
    });
    for (const register of options.routes) register(scoped);
    done();
  });
  return app;
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
