import { createRequire } from 'node:module';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor, ParentBasedSampler, SimpleSpanProcessor, TraceIdRatioBasedSampler, TracerProvider, type SpanExporter, type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { FastifyOtelInstrumentation } from '@fastify/otel';

/** Where spans go: an OTLP/HTTP collector in production, any exporter (in memory) in tests. */
export interface TracingOptions {
  serviceName: string;
  /** Base URL of an OTLP/HTTP collector (OTEL_EXPORTER_OTLP_ENDPOINT); spans are sent in batches to `<endpoint>/v1/traces`. */
  endpoint?: string;
  /** Instead of `endpoint`: each span is handed to this exporter as soon as it ends. */
  exporter?: SpanExporter;
  /** Share of new traces recorded (default 1); work continuing a trace follows its decision. */
  sampleRatio?: number;
  /** Told when something will not be traced (e.g. `pg` was loaded before tracing started). */
  warn?: (message: string) => void;
}

/** Probes and scrapes: frequent, and alike; a span each would drown the traces worth reading. */
const untracedPaths = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * The OpenTelemetry SDK, wired for OrderStream. Loaded (dynamically, by `startTracing`) only when
 * tracing is on. Instrumentations that patch modules (pg, ioredis, node:http) patch them as they are
 * loaded, which is why tracing starts before the application is imported; fastify (through its
 * `fastify.initialization` diagnostics channel) and undici (diagnostics channels too) work whenever
 * their instances are created.
 */
export function startTracingSdk(options: TracingOptions): { forceFlush(): Promise<void>; shutdown(): Promise<void> } {
  const processor: SpanProcessor = options.exporter === undefined
    ? new BatchSpanProcessor({
      exporter: new OTLPTraceExporter({ url: tracesUrl(options.endpoint) }),
      // One order costs about 130 spans (100 of them SQL statements): a bigger queue than the
      // default 2048 rides out a burst; past it, spans are dropped rather than memory grown.
      maxQueueSize: 32_768,
      maxExportBatchSize: 2048,
      scheduledDelayMillis: 1000,
    })
    : new SimpleSpanProcessor({ exporter: options.exporter });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName }),
    spanProcessors: [processor],
    // Unsampled traces still carry their context (flag 00), so every later step skips them too.
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.sampleRatio ?? 1) }),
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  if (options.warn !== undefined && isLoaded('pg')) {
    options.warn('pg was loaded before tracing started: SQL statements will not be traced (start tracing before importing the app; decision 0007)');
  }
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      // The request span comes from fastify, which names it by route and also sees inject()ed requests.
      new FastifyOtelInstrumentation({
        registerOnInitialization: true,
        instrumentHooks: false,
        instrumentHandler: false,
        ignorePaths: (route) => untracedPaths.has(route.url),
        requestHook: (span, request) => {
          const route = request.routeOptions.url;
          span.updateName(route === undefined ? request.method : `${request.method} ${route}`);
          span.setAttribute('orderstream.request_id', request.id);
        },
      }),
      // Outgoing calls only (the Stripe provider; ESM callers of named imports are not seen, decision 0007).
      // Incoming requests are fastify's.
      new HttpInstrumentation({ disableIncomingRequestInstrumentation: true, requireParentforOutgoingSpans: true }),
      new UndiciInstrumentation({ requireParentforSpans: true }),
      // Statements outside any span are the pollers' (relay, workers, pg-boss): left out on purpose.
      new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  return {
    forceFlush: () => provider.forceFlush(),
    shutdown: async () => {
      unregister();
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}

/** OTLP/HTTP: the traces signal lives at `/v1/traces` under the configured base endpoint. */
function tracesUrl(endpoint: string | undefined): string {
  if (endpoint === undefined) throw new Error('Tracing needs an OTLP endpoint or an exporter');
  return new URL('v1/traces', endpoint.endsWith('/') ? endpoint : `${endpoint}/`).toString();
}

function isLoaded(packageName: string): boolean {
  const require = createRequire(import.meta.url);
  try {
    return require.resolve(packageName) in require.cache;
  } catch {
    return false;
  }
}
