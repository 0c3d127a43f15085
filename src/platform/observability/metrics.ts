import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Logger } from '../logging/logger.ts';
import { ScrapeReadings, type ScrapeSources } from './scrape-readings.ts';

export type { QueueDepth, ScrapeSources } from './scrape-readings.ts';

/** A circuit breaker's state as the `orderstream_circuit_breaker_state` gauge reports it. */
export const circuitStates = { closed: 0, 'half-open': 1, open: 2 } as const;
export type CircuitState = keyof typeof circuitStates;

const httpBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const sagaStepBuckets = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const jobBuckets = [0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600];

/**
 * One process's Prometheus metrics: its own registry (never prom-client's global one, so several
 * apps in one test process do not collide), the process metrics of `collectDefaultMetrics`, and
 * every OrderStream instrument. Labels are bounded: route templates, step and status names, queue
 * kinds, consumer and topic names; never raw paths, ids or messages.
 *
 * @example
 * const metrics = createMetrics();
 * metrics.circuitState.set({ upstream: 'orders' }, circuitStates.open);
 * const text = await metrics.registry.metrics();
 */
export class Metrics {
  readonly registry = new Registry();

  /** HTTP requests by route template, method and status code, with their duration. */
  readonly httpRequestDuration: Histogram<'method' | 'route' | 'status_code'>;
  /** Requests the edge answered 429 because a client's rate-limit bucket was empty. */
  readonly rateLimitRejections: Counter<'bucket'>;
  /** Set by the gateway for each upstream: 0 closed, 1 half-open, 2 open (see `circuitStates`). */
  readonly circuitState: Gauge<'upstream'>;

  readonly ordersPlaced: Counter;
  readonly ordersFinished: Counter<'status'>;
  readonly orderCancellations: Counter<'cause'>;
  /** Alert on `needs_attention="true"`: an order kept cancelling through repeated re-sends of its compensations. */
  readonly orderCompensationResends: Counter<'needs_attention'>;
  readonly sagaStepDuration: Histogram<'step' | 'outcome'>;
  /** Set by the orders module each time it counts its unfinished orders (admission control). */
  readonly orderBacklog: Gauge;
  readonly orderBacklogLimit: Gauge;
  readonly ordersRefused: Counter;
  /** Alert on any increase: a payment operation an admin must look at (see payments.operations). */
  readonly paymentOperationsFailed: Counter<'kind'>;

  readonly messagesHandled: Counter<'consumer'>;
  readonly inboxDuplicates: Counter<'consumer'>;
  readonly messageFailures: Counter<'consumer' | 'next'>;

  readonly jobAttemptDuration: Histogram<'kind' | 'outcome'>;
  readonly jobsDeadLettered: Counter<'kind'>;

  readonly retentionDeletedRows: Counter<'table'>;

  /** Gauges filled when Prometheus scrapes, and the count of readings that failed. */
  readonly #readings: ScrapeReadings;

  constructor(options: { processMetrics?: boolean; scrapeTimeoutMs?: number; logger?: Logger } = {}) {
    const registers = [this.registry];
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });

    this.httpRequestDuration = new Histogram({
      name: 'orderstream_http_request_duration_seconds', registers, buckets: httpBuckets,
      help: 'Time from receiving an HTTP request to sending its response, by route template (unmatched for unknown paths), method and status code.',
      labelNames: ['method', 'route', 'status_code'],
    });
    this.rateLimitRejections = new Counter({
      name: 'orderstream_rate_limit_rejections_total', registers, labelNames: ['bucket'],
      help: 'Requests the edge refused with 429 because the client IP had used up its rate-limit bucket (api, or auth for sign-in and token routes).',
    });
    this.circuitState = new Gauge({
      name: 'orderstream_circuit_breaker_state', registers, labelNames: ['upstream'],
      help: 'State of the gateway\'s circuit breaker towards each upstream: 0 closed (calls pass), 1 half-open (trial calls), 2 open (calls refused).',
    });

    this.ordersPlaced = new Counter({
      name: 'orderstream_orders_placed_total', registers,
      help: 'Orders accepted by POST /v1/orders (an idempotent replay is not counted again).',
    });
    this.ordersFinished = new Counter({
      name: 'orderstream_orders_finished_total', registers, labelNames: ['status'],
      help: 'Orders that reached a terminal status (CONFIRMED or CANCELLED); a confirmed order cancelled later counts once in each.',
    });
    this.orderCancellations = new Counter({
      name: 'orderstream_order_cancellations_total', registers, labelNames: ['cause'],
      help: 'Orders that began compensating, by cause: <step>-failed, reservation-expired, timed-out or cancel-requested.',
    });
    this.orderCompensationResends = new Counter({
      name: 'orderstream_order_compensation_resends_total', registers, labelNames: ['needs_attention'],
      help: 'Times the sweeper sent a cancelling order\'s unanswered compensations again; needs_attention="true" once re-sending has not helped and an operator must look.',
    });
    this.sagaStepDuration = new Histogram({
      name: 'orderstream_saga_step_duration_seconds', registers, buckets: sagaStepBuckets, labelNames: ['step', 'outcome'],
      help: 'Time a forward saga step took, from being started to its outcome: succeeded, failed, timed-out, expired (the reservation lapsed) or cancelled.',
    });
    this.orderBacklog = new Gauge({
      name: 'orderstream_order_backlog', registers,
      help: 'Accepted orders not yet CONFIRMED or CANCELLED (sagas still running), as the orders module last counted them (every 250 ms).',
    });
    this.orderBacklogLimit = new Gauge({
      name: 'orderstream_order_backlog_limit', registers,
      help: 'ORDER_BACKLOG_LIMIT: at this many unfinished orders POST /v1/orders refuses new ones with 503 and Retry-After; 0 when it refuses none.',
    });
    this.ordersRefused = new Counter({
      name: 'orderstream_orders_refused_total', registers,
      help: 'New orders POST /v1/orders refused with 503 and Retry-After because the unfinished orders were at ORDER_BACKLOG_LIMIT; nothing was written for them.',
    });

    this.paymentOperationsFailed = new Counter({
      name: 'orderstream_payment_operations_failed_total', registers, labelNames: ['kind'],
      help: 'Payment operations (authorize, capture, void, refund) that ended failed and wait for an admin; a failed void or refund may leave money held.',
    });

    this.messagesHandled = new Counter({
      name: 'orderstream_messages_handled_total', registers, labelNames: ['consumer'],
      help: 'Messages whose effect a consumer committed (with its inbox row).',
    });
    this.inboxDuplicates = new Counter({
      name: 'orderstream_inbox_duplicates_total', registers, labelNames: ['consumer'],
      help: 'Deliveries skipped because the consumer\'s inbox showed the message was already handled (redeliveries).',
    });
    this.messageFailures = new Counter({
      name: 'orderstream_message_failures_total', registers, labelNames: ['consumer', 'next'],
      help: 'Deliveries a consumer failed, by what happens next: retry (scheduled with backoff) or dead-letter (attempts used up).',
    });

    this.jobAttemptDuration = new Histogram({
      name: 'orderstream_job_attempt_duration_seconds', registers, buckets: jobBuckets, labelNames: ['kind', 'outcome'],
      help: 'Duration of one attempt at a background job (catalog-import, invoice), by outcome: completed or failed (it is retried or dead-lettered).',
    });
    this.jobsDeadLettered = new Counter({
      name: 'orderstream_jobs_dead_lettered_total', registers, labelNames: ['kind'],
      help: 'Jobs given up after their last attempt and marked failed.',
    });

    this.retentionDeletedRows = new Counter({
      name: 'orderstream_retention_deleted_rows_total', registers, labelNames: ['table'],
      help: 'Rows deleted because they were past their retention, by schema-qualified table.',
    });

    // Last, so the scrape-time instruments are listed after those counted as things happen.
    this.#readings = new ScrapeReadings(registers, { scrapeTimeoutMs: options.scrapeTimeoutMs ?? 2000, logger: options.logger });
  }

  /** An HTTP response was sent (the app's onResponse hook); `route` is the template, or `unmatched`. */
  requestCompleted(request: { method: string; route: string; statusCode: number }, seconds: number): void {
    this.httpRequestDuration.observe({ method: request.method, route: request.route, status_code: String(request.statusCode) }, seconds);
  }

  /** The edge refused a request with 429 from `bucket` (`api` or `auth`). */
  rateLimited(bucket: string): void {
    this.rateLimitRejections.inc({ bucket });
  }

  messageHandled(consumer: string): void {
    this.messagesHandled.inc({ consumer });
  }

  duplicateSkipped(consumer: string): void {
    this.inboxDuplicates.inc({ consumer });
  }

  deliveryFailed(consumer: string, next: 'retry' | 'dead-letter'): void {
    this.messageFailures.inc({ consumer, next });
  }

  /** A retention sweeper deleted `count` rows of `table`. */
  rowsDeleted(table: string, count: number): void {
    this.retentionDeletedRows.inc({ table }, count);
  }

  /** Sets the state of the circuit breaker towards `upstream`. */
  setCircuitState(upstream: string, state: CircuitState): void {
    this.circuitState.set({ upstream }, circuitStates[state]);
  }

  /** Adds (or replaces) what is read at scrape time. */
  readFrom(sources: ScrapeSources): void {
    this.#readings.readFrom(sources);
  }

  /** The text Prometheus scrapes. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** Creates the metrics of one app instance. */
export function createMetrics(options: { processMetrics?: boolean; scrapeTimeoutMs?: number; logger?: Logger } = {}): Metrics {
  return new Metrics(options);
}
