import { isSpanContextValid, trace } from '@opentelemetry/api';
import { pino, type Logger, type DestinationStream } from 'pino';
import { currentContext, type WorkContext } from './request-context.ts';

export type { Logger } from 'pino';

/** Field names whose values are secrets when they are fields of a logged object. */
const secretFields = [
  'password', 'newPassword', 'currentPassword', 'token', 'accessToken', 'refreshToken', 'idToken', 'access_token', 'refresh_token',
  'id_token', 'secret', 'clientSecret', 'client_secret', 'apiKey', 'api_key', 'authorization', 'cookie', 'databaseUrl',
  'keyEncryptionKey', 'privateKey',
];

/**
 * Paths whose values never reach a log line. A top-level path costs nothing per line, but each
 * `*.` wildcard costs about a microsecond on every line written (measured), so only the secrets
 * likely to sit one level down (a body, a config, request headers) get one.
 */
export const redactedPaths = [
  ...secretFields,
  ...['password', 'newPassword', 'token', 'accessToken', 'refreshToken', 'secret', 'authorization', 'databaseUrl'].map((field) => `*.${field}`),
  'req.headers.authorization', 'req.headers.cookie', 'headers.cookie', 'headers["set-cookie"]', 'req.headers["x-api-key"]',
];

/** JSON logger whose every line carries the request id (and other work ids) of the work that wrote it. */
export function createLogger(options: { level: string; destination?: DestinationStream }): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'orderstream' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: redactedPaths, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
      mixin: logContext,
    },
    options.destination,
  );
}

/**
 * The fields every line carries: the work context (request, message, order, job ids) and, when an
 * OpenTelemetry span is active, its trace and span ids, so a log line leads to its trace. Without a
 * tracer registered `getActiveSpan()` is a lookup that finds nothing.
 */
function logContext(): WorkContext {
  const context = currentContext();
  const span = trace.getActiveSpan();
  if (span === undefined) return { ...context };
  const spanContext = span.spanContext();
  if (!isSpanContextValid(spanContext)) return { ...context };
  return { ...context, traceId: spanContext.traceId, spanId: spanContext.spanId };
}
