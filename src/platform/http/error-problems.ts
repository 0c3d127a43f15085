import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { overloadOf } from '../concurrency/overloaded.ts';
import type { Logger } from '../logging/logger.ts';
import { HttpProblem, problemTypeBase, type FieldError, type Problem } from './problem.ts';

/** Longer path parameters (ids, SKUs) are refused by the router with 414 before any route runs. */
export const maxPathParameterLength = 100;

/**
 * The app's error and not-found handlers: every error leaves as RFC 9457 problem+json, a full
 * bounded resource as 503 with Retry-After, and only an unexpected failure is logged as an error.
 */
export function installErrorHandlers(app: FastifyInstance, logger: Logger): void {
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
}

/** The refusal of a query string whose percent-encoding is broken (its parser would keep `%zz` as it is). */
export function malformedQueryProblem(): HttpProblem {
  return new HttpProblem({
    status: 400, slug: 'malformed-url', title: 'The URL is not valid',
    detail: 'The query string\'s percent-encoded bytes must be % and two hex digits, decoding to UTF-8.',
  });
}

/** The problem+json an error raised by a handler, a schema, a body parser or the router answers with. */
export function toProblem(error: FastifyError, instance: string, requestId: string): Problem {
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
