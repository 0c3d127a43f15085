import { Counter, Gauge, type Registry } from 'prom-client';
import type { WorkLimiterStats } from '../concurrency/work-limiter.ts';
import { poolStats, type Database } from '../database/database.ts';
import { readTableSizes } from '../database/table-sizes.ts';
import type { Logger } from '../logging/logger.ts';
import { readMessagingBacklog } from '../messaging/backlog.ts';
import type { ConsumerLag } from '../messaging/transport.ts';

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

type Reading = () => Promise<void>;

/**
 * The gauges (and copied counters) filled when Prometheus scrapes, with the scrape-error counter.
 * Their `collect` calls all join one reading per scrape, so one scrape costs one database round of
 * at most `scrapeTimeoutMs`, however many gauges it fills.
 */
export class ScrapeReadings {
  readonly #scrapeErrors: Counter<'source'>;
  readonly #sources: ScrapeSources = {};
  readonly #scrapeTimeoutMs: number;
  readonly #logger: Logger | undefined;
  #scrape: Promise<void> | undefined;
  readonly #refreshers: Reading[];

  constructor(registers: Registry[], options: { scrapeTimeoutMs: number; logger: Logger | undefined }) {
    this.#scrapeTimeoutMs = options.scrapeTimeoutMs;
    this.#logger = options.logger;
    this.#scrapeErrors = new Counter({
      name: 'orderstream_metrics_scrape_errors_total', registers, labelNames: ['source'],
      help: 'Scrape-time readings that failed or timed out (database, table-sizes, job-queues, consumer-lag); their gauges keep the previous value.',
      // Read after this scrape's readings, so a failure shows in the scrape it happened in.
      collect: () => this.#refresh(),
    });
    const instruments = scrapeInstruments(registers, () => this.#refresh());
    this.#refreshers = [
      this.#readPool(instruments),
      this.#timed('database', this.#readBacklog(instruments)),
      this.#timed('table-sizes', this.#readTableSizes(instruments)),
      this.#timed('job-queues', this.#readJobQueues(instruments)),
      this.#readWorkLimiters(instruments),
      this.#timed('consumer-lag', this.#readConsumerLag(instruments)),
    ];
  }

  /** Adds (or replaces) what is read at scrape time. */
  readFrom(sources: ScrapeSources): void {
    Object.assign(this.#sources, sources);
  }

  #readPool(instruments: ScrapeInstruments): Reading {
    return () => {
      const stats = this.#sources.database === undefined ? undefined : poolStats(this.#sources.database);
      if (stats === undefined) return Promise.resolve();
      instruments.poolConnections.set(stats.total);
      instruments.poolIdle.set(stats.idle);
      instruments.poolWaiting.set(stats.waiting);
      instruments.poolMax.set(stats.max);
      instruments.poolOldestWait.set(stats.oldestWaitMs / 1000);
      const copied = [
        [instruments.poolAcquires, stats.acquired], [instruments.poolAcquireWait, stats.acquireWaitSeconds], [instruments.poolAcquireTimeouts, stats.acquireTimeouts],
      ] as const;
      for (const [counted, value] of copied) {
        counted.reset();
        counted.inc(value);
      }
      return Promise.resolve();
    };
  }

  #readBacklog(instruments: ScrapeInstruments): Reading {
    return async () => {
      const db = this.#sources.database;
      if (db === undefined) return;
      const backlog = await readMessagingBacklog(db, { timeoutMs: this.#scrapeTimeoutMs });
      instruments.outboxUnsent.set(backlog.unsent);
      instruments.outboxAge.set(backlog.oldestUnsentAgeSeconds);
      setAll(instruments.deadLetters, backlog.deadLetters.map((row) => [{ topic: row.topic, consumer: row.consumer }, row.count]));
    };
  }

  #readTableSizes(instruments: ScrapeInstruments): Reading {
    return async () => {
      const databases = this.#sources.tableSizes ?? [];
      if (databases.length === 0) return;
      const read = await Promise.all(databases.map(async ({ database, db }) => {
        const sizes = await readTableSizes(db, { timeoutMs: this.#scrapeTimeoutMs });
        return sizes.map((size) => ({ labels: { database, table: size.table }, size }));
      }));
      const sizes = read.flat();
      setAll(instruments.tableRows, sizes.map(({ labels, size }) => [labels, size.estimatedRows]));
      setAll(instruments.tableBytes, sizes.map(({ labels, size }) => [labels, size.bytes]));
    };
  }

  #readJobQueues(instruments: ScrapeInstruments): Reading {
    return async () => {
      if (this.#sources.jobQueues === undefined) return;
      const depths = await this.#sources.jobQueues();
      setAll(instruments.jobsQueued, depths.map((depth) => [{ kind: depth.kind }, depth.queued]));
      setAll(instruments.jobsActive, depths.map((depth) => [{ kind: depth.kind }, depth.active]));
    };
  }

  #readWorkLimiters(instruments: ScrapeInstruments): Reading {
    return () => {
      const limiters = this.#sources.workLimiters?.() ?? [];
      setAll(instruments.limiterRunning, limiters.map((limiter) => [{ resource: limiter.resource }, limiter.running]));
      setAll(instruments.limiterQueued, limiters.map((limiter) => [{ resource: limiter.resource }, limiter.queued]));
      // Each limiter keeps its own total, copied here as the pool's counters are.
      instruments.limiterRefused.reset();
      for (const limiter of limiters) instruments.limiterRefused.inc({ resource: limiter.resource }, limiter.refusedTotal);
      return Promise.resolve();
    };
  }

  #readConsumerLag(instruments: ScrapeInstruments): Reading {
    return async () => {
      if (this.#sources.consumerLag === undefined) return;
      const byTopic = new Map<string, { consumer: string; topic: string; lag: number }>();
      for (const partition of await this.#sources.consumerLag()) {
        const key = `${partition.consumer}\u0000${partition.topic}`;
        const entry = byTopic.get(key) ?? { consumer: partition.consumer, topic: partition.topic, lag: 0 };
        entry.lag += partition.lag;
        byTopic.set(key, entry);
      }
      setAll(instruments.consumerLag, [...byTopic.values()].map((entry) => [{ consumer: entry.consumer, topic: entry.topic }, entry.lag]));
    };
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
  #timed(source: string, read: Reading): Reading {
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

type ScrapeInstruments = ReturnType<typeof scrapeInstruments>;

/** The instruments filled at scrape time, registered in this order; each one's `collect` is `refresh`. */
function scrapeInstruments(registers: Registry[], refresh: () => Promise<void>) {
  const gauge = <Label extends string>(name: string, help: string, labelNames: readonly Label[] = []) =>
    new Gauge<Label>({ name, help, labelNames, registers, collect: refresh });
  // Counters kept by their source (the pool, the limiters) and copied at scrape time.
  const counter = <Label extends string>(name: string, help: string, labelNames: readonly Label[] = []) =>
    new Counter<Label>({ name, help, labelNames, registers, collect: refresh });
  return {
    poolConnections: gauge('orderstream_db_pool_connections', 'Connections open in the database pool (busy and idle).'),
    poolIdle: gauge('orderstream_db_pool_idle_connections', 'Open connections in the database pool not in use.'),
    poolWaiting: gauge('orderstream_db_pool_waiting_requests', 'Queries waiting for a connection because the pool is fully in use.'),
    poolMax: gauge('orderstream_db_pool_max_connections', 'Size limit of the database pool (DATABASE_POOL_SIZE).'),
    poolOldestWait: gauge('orderstream_db_pool_oldest_wait_seconds', 'How long the longest-waiting caller has waited for a database connection; 0 when none waits.'),
    poolAcquires: counter('orderstream_db_pool_acquires_total', 'Connections handed out by the database pool.'),
    poolAcquireWait: counter('orderstream_db_pool_acquire_wait_seconds_total', 'Seconds callers spent waiting for a database connection.'),
    poolAcquireTimeouts: counter('orderstream_db_pool_acquire_timeouts_total', 'Callers refused after DATABASE_ACQUIRE_TIMEOUT_MS: each a 503, or a delivery tried again later.'),
    outboxUnsent: gauge('orderstream_outbox_unsent_messages', 'Outbox rows not yet published by the relay (counted up to 100,000).'),
    outboxAge: gauge('orderstream_outbox_oldest_unsent_age_seconds', 'Age of the oldest unpublished outbox row; 0 when none is waiting.'),
    deadLetters: gauge('orderstream_dead_letters', 'Messages in the dead letters not yet replayed, by topic and consumer.', ['topic', 'consumer']),
    tableRows: gauge('orderstream_table_estimated_rows',
      'Rows of each OrderStream table as PostgreSQL last estimated them (pg_class.reltuples, updated by vacuum and analyze), by database and schema-qualified table.', ['database', 'table']),
    tableBytes: gauge('orderstream_table_bytes',
      'Disk space of each OrderStream table with its indexes and TOAST (pg_total_relation_size), by database and schema-qualified table.', ['database', 'table']),
    jobsQueued: gauge('orderstream_jobs_queued', 'Jobs waiting in a queue (including retries waiting for their delay), by job kind.', ['kind']),
    jobsActive: gauge('orderstream_jobs_active', 'Jobs being worked on, by job kind.', ['kind']),
    consumerLag: gauge('orderstream_kafka_consumer_lag', 'Kafka messages not yet consumed by a consumer group, summed over the partitions of a topic.', ['consumer', 'topic']),
    limiterRunning: gauge('orderstream_work_limiter_running', 'Tasks of expensive work running now, by resource (password hashing, PDF rendering).', ['resource']),
    limiterQueued: gauge('orderstream_work_limiter_queued', 'Tasks of expensive work waiting for a free slot, by resource.', ['resource']),
    limiterRefused: counter('orderstream_work_limiter_refused_total',
      'Tasks of expensive work refused (503 with Retry-After) because too many were waiting or one waited too long, by resource.', ['resource']),
  };
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
