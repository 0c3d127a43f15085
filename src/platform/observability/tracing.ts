import {
  context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace,
  type Attributes, type Context, type Link, type Tracer,
} from '@opentelemetry/api';
// Types only: the SDK itself is imported when tracing starts, never before.
import type { TracingOptions } from './tracing-sdk.ts';

export type { TracingOptions };

/**
 * Tracing for OrderStream: the helpers every layer may call (spans for use cases, messages, jobs;
 * the trace context carried in envelopes and job data), and the switch that starts the SDK.
 *
 * Until `startTracing` runs, every helper is a plain call of the work it wraps: no span object, no
 * context lookup, no SDK loaded (decision 0007). Start tracing before anything imports `pg` or
 * composes the app, as the CLI and the tracing tests do, so that SQL statements are instrumented
 * and use cases wrapped.
 */

/** A running tracer provider. */
export interface Tracing {
  /** Sends the spans still buffered. */
  forceFlush(): Promise<void>;
  /** Flushes, stops the instrumentations and unregisters the provider; the helpers become plain calls again. */
  shutdown(): Promise<void>;
  /** The share of new traces sampled. */
  readonly sampleRatio: number;
}

/** The role of a span's work: `internal` unless it serves, calls, sends or receives something. */
export type SpanRole = 'internal' | 'server' | 'client' | 'producer' | 'consumer';

/** How a span is made besides its name: its role, attributes and links. */
export interface SpanOptions {
  role?: SpanRole;
  attributes?: Attributes;
  /** W3C `traceparent`s of related work (the messages of one relay batch): each valid one becomes a link. */
  linkedTo?: readonly (string | null | undefined)[];
}

const spanKinds: Readonly<Record<SpanRole, SpanKind>> = {
  internal: SpanKind.INTERNAL, server: SpanKind.SERVER, client: SpanKind.CLIENT, producer: SpanKind.PRODUCER, consumer: SpanKind.CONSUMER,
};

let tracer: Tracer | undefined;
let running: Tracing | undefined;

/**
 * Starts the OpenTelemetry SDK: registers the tracer provider, the async context manager, the W3C
 * trace-context propagator and the instrumentations (fastify requests, outgoing HTTP and undici, pg,
 * ioredis). Call it once per process, before the application is imported or composed; a second
 * call answers the running instance.
 *
 * @example
 * const tracing = await startTracing({ serviceName: 'orderstream', endpoint: 'http://127.0.0.1:4318' });
 * const { createSingleProcess } = await import('../../apps/single-process.ts');
 */
export async function startTracing(options: TracingOptions): Promise<Tracing> {
  if (running !== undefined) return running;
  // The SDK is imported only here, so a process without tracing never loads it.
  const { startTracingSdk } = await import('./tracing-sdk.ts');
  const sdk = startTracingSdk(options);
  tracer = trace.getTracer('orderstream');
  running = {
    sampleRatio: options.sampleRatio ?? 1,
    forceFlush: () => sdk.forceFlush(),
    shutdown: async () => {
      tracer = undefined;
      running = undefined;
      await sdk.shutdown();
    },
  };
  return running;
}

/**
 * Starts tracing when OTEL_EXPORTER_OTLP_ENDPOINT is set; otherwise does nothing and answers
 * undefined. Flushes the buffered spans when the process is about to exit.
 */
export async function startConfiguredTracing(
  config: { OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined; OTEL_SERVICE_NAME: string; OTEL_TRACES_SAMPLER_ARG: number },
  logger: { info(details: object, message: string): void; warn(message: string): void },
): Promise<Tracing | undefined> {
  if (config.OTEL_EXPORTER_OTLP_ENDPOINT === undefined) return undefined;
  if (running !== undefined) return running;
  const tracing = await startTracing({
    serviceName: config.OTEL_SERVICE_NAME, endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT, sampleRatio: config.OTEL_TRACES_SAMPLER_ARG,
    warn: (message) => { logger.warn(message); },
  });
  process.once('beforeExit', () => { void tracing.shutdown(); });
  logger.info({ endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT, serviceName: config.OTEL_SERVICE_NAME, sampleRatio: config.OTEL_TRACES_SAMPLER_ARG }, 'tracing to an OTLP collector');
  return tracing;
}

/** True once `startTracing` ran (and until its shutdown). */
export function isTracingEnabled(): boolean {
  return tracer !== undefined;
}

/** The running tracing's share of sampled traces; undefined while tracing is off. */
export function tracingSampleRatio(): number | undefined {
  return running?.sampleRatio;
}

/**
 * Runs `work` in a span named `name`, a child of the active span (or a new trace). A rejection is
 * recorded on the span and passed on. Without tracing, it is `work()`.
 *
 * @example
 * await traced('outbox.relay-batch', () => transport.publish(messages), { role: 'producer', linkedTo: traceparents });
 */
export function traced<T>(name: string, work: () => Promise<T>, options: SpanOptions = {}): Promise<T> {
  if (tracer === undefined) return work();
  return inSpan(tracer, name, context.active(), work, options);
}

/**
 * Runs `work` in a span that continues the trace of `traceparent` (the work that queued it: a
 * message's producer, a job's sender), or starts a new trace when there is none. Never a child of
 * whatever happens to be active, so a message delivered inside a relay batch joins its own trace.
 */
export function continueTrace<T>(name: string, traceparent: string | null | undefined, work: () => Promise<T>, options: SpanOptions = {}): Promise<T> {
  if (tracer === undefined) return work();
  return inSpan(tracer, name, contextOf(traceparent), work, options);
}

/**
 * The W3C `traceparent` of the active span, to carry with work that continues elsewhere (an
 * outbox message, a job, a queued payment operation); undefined without tracing or outside a span.
 */
export function currentTraceparent(): string | undefined {
  if (tracer === undefined) return undefined;
  const carrier: { traceparent?: string } = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/** Adds attributes to the active span (an order id learned half way); nothing without one. */
export function addSpanAttributes(attributes: Attributes): void {
  if (tracer === undefined) return;
  trace.getActiveSpan()?.setAttributes(attributes);
}

/** Marks the active span failed with `error` (for work that catches its own failures). */
export function recordSpanError(error: unknown): void {
  if (tracer === undefined) return;
  const span = trace.getActiveSpan();
  if (span === undefined) return;
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

/** A use case: one `execute` per call. */
interface UseCase {
  execute(...args: never[]): Promise<unknown>;
}

/**
 * Makes every `execute` of `useCase` run in a span named `name` (`orders.place-order`). Meant for
 * composition roots (a module's `index.ts`), so use cases themselves stay free of tracing. Without
 * tracing at composition time, `useCase` is returned untouched.
 *
 * @example
 * placeOrder: tracedUseCase('orders.place-order', new PlaceOrder({ ... })),
 */
export function tracedUseCase<Case extends UseCase>(name: string, useCase: Case): Case {
  if (tracer === undefined) return useCase;
  const execute = useCase.execute.bind(useCase) as (...args: unknown[]) => Promise<unknown>;
  Object.defineProperty(useCase, 'execute', {
    value: (...args: unknown[]) => traced(name, () => execute(...args)),
    configurable: true, writable: true, enumerable: false,
  });
  return useCase;
}

async function inSpan<T>(activeTracer: Tracer, name: string, parent: Context, work: () => Promise<T>, options: SpanOptions): Promise<T> {
  const links = linksOf(options.linkedTo);
  const span = activeTracer.startSpan(name, {
    kind: spanKinds[options.role ?? 'internal'],
    ...(options.attributes === undefined ? {} : { attributes: options.attributes }),
    ...(links.length === 0 ? {} : { links }),
  }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), work);
  } catch (error) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    throw error;
  } finally {
    span.end();
  }
}

function contextOf(traceparent: string | null | undefined): Context {
  return traceparent === undefined || traceparent === null ? ROOT_CONTEXT : propagation.extract(ROOT_CONTEXT, { traceparent });
}

function linksOf(traceparents: readonly (string | null | undefined)[] | undefined): Link[] {
  const links: Link[] = [];
  for (const traceparent of new Set(traceparents ?? [])) {
    if (traceparent === undefined || traceparent === null) continue;
    const spanContext = trace.getSpanContext(contextOf(traceparent));
    if (spanContext !== undefined) links.push({ context: spanContext });
  }
  return links;
}
