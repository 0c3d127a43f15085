import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { WorkLimiterStats } from '../concurrency/work-limiter.ts';
import { poolStats, type Database } from '../database/database.ts';
import { readTableSizes } from '../database/table-sizes.ts';
import type { Logger } from '../logging/logger.ts';
import { readMessagingBacklog } from '../messaging/backlog.ts';
import type { ConsumerLag } from '../messaging/transport.ts';

/** A circuit breaker's state as the `orderstream_circuit_breaker_state` gauge reports it. */
export const circuitStates = { closed: 0, 'half-open': 1, open: 2 } as const;
export type CircuitState = keyof typeof circuitStates;

/** Jobs waiting and running in one queue, as a job queue reports them. */
export interface QueueDepth {
  kind: string;
  queued: number;
  active: number;
}

/** What is read when Prometheus scrapes, rather than counted as it happens. */
export interface ScrapeSources {
  /** Pool usage, outbox backlog and dead letters of this database. */
  database?: Database;
  /**
   * The databases whose tables are measured, each once and under its own `database` label: in the
   * services shape one process may hold several, each with tables of the same names (`messaging.*`).
   */
  tableSizes?: readonly { database: string; db: Database }[];
  /** Depth of the job queues. */
  jobQueues?: () => Promise<readonly QueueDepth[]>;
  /** Consumer lag of a broker transport (Kafka). */
  consumerLag?: () => Promise<readonly ConsumerLag[]>;
  /** Counters of the limiters of expensive work (password hashing, PDF rendering). */
  workLimiters?: () => readonly WorkLimiterStats[];
}

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

  readonly #scrapeErrors: Counter<'source'>;
  readonly #sources: ScrapeSources = {};
  readonly #scrapeTimeoutMs: number;
  readonly #logger: Logger | undefined;
  #scrape: Promise<void> | undefined;
  readonly #refreshers: (() => Promise<void>)[] = [];

  constructor(options: { processMetrics?: boolean; scrapeTimeoutMs?: number; logger?: Logger } = {}) {
    this.#scrapeTimeoutMs = options.scrapeTimeoutMs ?? 2000;
    this.#logger = options.logger;
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

    this.#scrapeErrors = new Counter({
      name: 'orderstream_metrics_scrape_errors_total', registers, labelNames: ['source'],
      help: 'Scrape-time readings that failed or timed out (database, table-sizes, job-queues, consumer-lag); their gauges keep the previous value.',
      // Read after this scrape's readings, so a failure shows in the scrape it happened in.
      collect: () => this.#refresh(),
    });
    this.#defineScrapeGauges(registers);
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
    Object.assign(this.#sources, sources);
  }

  /** The text Prometheus scrapes. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /**
   * Gauges filled when Prometheus scrapes. Their `collect` calls all join one reading per scrape, so
   * one scrape costs one database round of at most `scrapeTimeoutMs`, however many gauges it fills.
   */
  #defineScrapeGauges(registers: Registry[]): void {
    const refresh = () => this.#refresh();
    const gauge = <Label extends string>(name: string, help: string, labelNames: readonly Label[] = []) =>
      new Gauge<Label>({ name, help, labelNames, registers, collect: refresh });

    const poolConnections = gauge('orderstream_db_pool_connections', 'Connections open in the database pool (busy and idle).');
    const poolIdle = gauge('orderstream_db_pool_idle_connections', 'Open connections in the database pool not in use.');
    const poolWaiting = gauge('orderstream_db_pool_waiting_requests', 'Queries waiting for a connection because the pool is fully in use.');
    const poolMax = gauge('orderstream_db_pool_max_connections', 'Size limit of the database pool (DATABASE_POOL_SIZE).');
    const poolOldestWait = gauge('orderstream_db_pool_oldest_wait_seconds', 'How long the longest-waiting caller has waited for a database connection; 0 when none waits.');
    // Counters kept by their source (the pool, the limiters) and copied at scrape time.
    const counter = <Label extends string>(name: string, help: string, labelNames: readonly Label[] = []) =>
      new Counter<Label>({ name, help, labelNames, registers, collect: refresh });
    const poolAcquires = counter('orderstream_db_pool_acquires_total', 'Connections handed out by the database pool.');
    const poolAcquireWait = counter('orderstream_db_pool_acquire_wait_seconds_total', 'Seconds callers spent waiting for a database connection.');
    const poolAcquireTimeouts = counter('orderstream_db_pool_acquire_timeouts_total', 'Callers refused after DATABASE_ACQUIRE_TIMEOUT_MS: each a 503, or a delivery tried again later.');
    const outboxUnsent = gauge('orderstream_outbox_unsent_messages', 'Outbox rows not yet published by the relay (counted up to 100,000).');
    const outboxAge = gauge('orderstream_outbox_oldest_unsent_age_seconds', 'Age of the oldest unpublished outbox row; 0 when none is waiting.');
    const deadLetters = gauge('orderstream_dead_letters', 'Messages in the dead letters not yet replayed, by topic and consumer.', ['topic', 'consumer']);
    const tableRows = gauge('orderstream_table_estimated_rows',
      'Rows of each OrderStream table as PostgreSQL last estimated them (pg_class.reltuples, updated by vacuum and analyze), by database and schema-qualified table.', ['database', 'table']);
    const tableBytes = gauge('orderstream_table_bytes',
      'Disk space of each OrderStream table with its indexes and TOAST (pg_total_relation_size), by database and schema-qualified table.', ['database', 'table']);
    const jobsQueued = gauge('orderstream_jobs_queued', 'Jobs waiting in a queue (including retries waiting for their delay), by job kind.', ['kind']);
    const jobsActive = gauge('orderstream_jobs_active', 'Jobs being worked on, by job kind.', ['kind']);
    const consumerLag = gauge('orderstream_kafka_consumer_lag', 'Kafka messages not yet consumed by a consumer group, summed over the partitions of a topic.', ['consumer', 'topic']);
    const limiterRunning = gauge('orderstream_work_limiter_running', 'Tasks of expensive work running now, by resource (password hashing, PDF rendering).', ['resource']);
    const limiterQueued = gauge('orderstream_work_limiter_queued', 'Tasks of expensive work waiting for a free slot, by resource.', ['resource']);
    const limiterRefused = counter('orderstream_work_limiter_refused_total',
      'Tasks of expensive work refused (503 with Retry-After) because too many were waiting or one waited too long, by resource.', ['resource']);

    this.#refreshers.push(
      () => {
        const stats = this.#sources.database === undefined ? undefined : poolStats(this.#sources.database);
        if (stats === undefined) return Promise.resolve();
        poolConnections.set(stats.total);
        poolIdle.set(stats.idle);
        poolWaiting.set(stats.waiting);
        poolMax.set(stats.max);
        poolOldestWait.set(stats.oldestWaitMs / 1000);
        for (const [counted, value] of [[poolAcquires, stats.acquired], [poolAcquireWait, stats.acquireWaitSeconds], [poolAcquireTimeouts, stats.acquireTimeouts]] as const) {
          counted.reset();
          counted.inc(value);
        }
        return Promise.resolve();
      },
      this.#timed('database', async () => {
        const db = this.#sources.database;
        if (db === undefined) return;
        const backlog = await readMessagingBacklog(db, { timeoutMs: this.#scrapeTimeoutMs });
        outboxUnsent.set(backlog.unsent);
        outboxAge.set(backlog.oldestUnsentAgeSeconds);
        setAll(deadLetters, backlog.deadLetters.map((row) => [{ topic: row.topic, consumer: row.consumer }, row.count]));
      }),
      this.#timed('table-sizes', async () => {
        const databases = this.#sources.tableSizes ?? [];
        if (databases.length === 0) return;
        const read = await Promise.all(databases.map(async ({ database, db }) => {
          const sizes = await readTableSizes(db, { timeoutMs: this.#scrapeTimeoutMs });
          return sizes.map((size) => ({ labels: { database, table: size.table }, size }));
        }));
        const sizes = read.flat();
        setAll(tableRows, sizes.map(({ labels, size }) => [labels, size.estimatedRows]));
        setAll(tableBytes, sizes.map(({ labels, size }) => [labels, size.bytes]));
      }),
      this.#timed('job-queues', async () => {
        if (this.#sources.jobQueues === undefined) return;
        const depths = await this.#sources.jobQueues();
        setAll(jobsQueued, depths.map((depth) => [{ kind: depth.kind }, depth.queued]));
        setAll(jobsActive, depths.map((depth) => [{ kind: depth.kind }, depth.active]));
      }),
      () => {
        const limiters = this.#sources.workLimiters?.() ?? [];
        setAll(limiterRunning, limiters.map((limiter) => [{ resource: limiter.resource }, limiter.running]));
        setAll(limiterQueued, limiters.map((limiter) => [{ resource: limiter.resource }, limiter.queued]));
        // Each limiter keeps its own total, copied here as the pool's counters are.
        limiterRefused.reset();
        for (const limiter of limiters) limiterRefused.inc({ resource: limiter.resource }, limiter.refusedTotal);
        return Promise.resolve();
      },
      this.#timed('consumer-lag', async () => {
        if (this.#sources.consumerLag === undefined) return;
        const byTopic = new Map<string, { consumer: string; topic: string; lag: number }>();
        for (const partition of await this.#sources.consumerLag()) {
          const key = `${partition.consumer}\u0000${partition.topic}`;
          const entry = byTopic.get(key) ?? { consumer: partition.consumer, topic: partition.topic, lag: 0 };
          entry.lag += partition.lag;
          byTopic.set(key, entry);
        }
        setAll(consumerLag, [...byTopic.values()].map((entry) => [{ consumer: entry.consumer, topic: entry.topic }, entry.lag]));
      }),
    );
  }

  #refresh(): Promise<void> {
    this.#scrape ??= Promise.all(this.#refreshers.map((refresher) => refresher())).then(() => undefined).finally(() => { this.#scrape = undefined; });
    return this.#scrape;
  }

  /**
   * A reading that may not outlast the scrape timeout; a failure is counted and logged, never thrown
   * at the scraper. While a timed-out reading is still outstanding the source is skipped, so a hung
   * dependency does not collect one more stuck query per scrape.
   */
  #timed(source: string, read: () => Promise<void>): () => Promise<void> {
    let outstanding: Promise<void> | undefined;
    return async () => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => { reject(new Error(`timed out after ${this.#scrapeTimeoutMs} ms`)); }, this.#scrapeTimeoutMs);
      });
      try {
        if (outstanding !== undefined) throw new Error('the previous reading has not finished yet');
        const reading = read().finally(() => { outstanding = undefined; });
        outstanding = reading;
        await Promise.race([reading, timeout]);
      } catch (error) {
        this.#scrapeErrors.inc({ source });
        this.#logger?.warn({ err: error, source }, 'a metrics reading failed; its gauges keep their previous value');
      } finally {
        clearTimeout(timer);
      }
    };
  }
}

/** Creates the metrics of one app instance. */
export function createMetrics(options: { processMetrics?: boolean; scrapeTimeoutMs?: number; logger?: Logger } = {}): Metrics {
  return new Metrics(options);
}

/**
 * Sets a labelled gauge to exactly these readings: label sets seen before and absent now go to 0
 * (a topic whose dead letters were all replayed shows 0, not its last count).
 */
function setAll<Label extends string>(gauge: Gauge<Label>, readings: readonly (readonly [Partial<Record<Label, string>>, number])[]): void {
  let seen = seenLabels.get(gauge) as Map<string, Partial<Record<Label, string>>> | undefined;
  if (seen === undefined) {
    seen = new Map();
    seenLabels.set(gauge, seen);
  }
  const now = new Set<string>();
  for (const [labels, value] of readings) {
    const key = JSON.stringify(labels);
    now.add(key);
    seen.set(key, labels);
    gauge.set(labels, value);
  }
  for (const [key, labels] of seen) {
    if (!now.has(key)) gauge.set(labels, 0);
  }
}

const seenLabels = new WeakMap<object, Map<string, object>>();
