import { z } from 'zod';

/** The public and operations listeners, and the log level. */
export const listenerVariables = {
  HOST: z.string().min(1).default('127.0.0.1')
    .describe('Interface the HTTP server listens on.'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080)
    .describe('HTTP port (0 picks a free one).'),
  OPS_HOST: z.string().min(1).default('127.0.0.1')
    .describe('Interface of the operations listener (`/metrics`, `/healthz`, `/readyz`), kept apart from the public API; `0.0.0.0` to let Prometheus on another host scrape it.'),
  OPS_PORT: z.coerce.number().int().min(0).max(65535).default(9464)
    .describe('Port of the operations listener (0 picks a free one); give each process on one host its own.'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')
    .describe('Minimum level of the JSON log lines written to standard output.'),
};

/** Limits on what an HTTP request may send and how long it may take. */
export const httpVariables = {
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(50 * 1024 * 1024).default(1024 * 1024)
    .describe('Largest request body accepted by every route but the import upload; larger ones get 413 (from Content-Length before reading, else once passed).'),
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(120_000)
    .describe('Longest a request may take to arrive in full, headers and body, on every listener; a slower one gets 408 and its connection is closed. Must let an upload of IMPORT_MAX_BYTES arrive at 1 MiB/s.'),
  HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(10_000)
    .describe('Longest the request line and headers may take to arrive (at most HTTP_REQUEST_TIMEOUT_MS); a slower request gets 408 and its connection is closed.'),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(72_000)
    .describe('An idle kept-alive connection is closed after this long; longer than the idle timeout of a proxy in front (nginx and most load balancers: 60 s), so the proxy closes first.'),
};

/** Traces sent to an OpenTelemetry collector, and the graceful shutdown. */
export const tracingAndShutdownVariables = {
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/ }).optional()
    .describe('OpenTelemetry collector (OTLP/HTTP) that receives traces, e.g. http://127.0.0.1:4318 (spans go to its /v1/traces). Unset: tracing is off and costs nothing.'),
  OTEL_SERVICE_NAME: z.string().min(1).max(100).default('orderstream')
    .describe('`service.name` of the traces this process sends. Unset: `orderstream`, or `orderstream-<role>` for `start --role <role>` (several roles joined by `+`).'),
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).default(1)
    .describe('Share of new traces recorded (the argument of a parent-based trace-id ratio sampler): 1 every trace, 0.1 one in ten. A request that arrives with a `traceparent` follows its caller\'s decision.'),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000)
    .describe('How long a graceful shutdown waits for in-flight work before exiting.'),
};
