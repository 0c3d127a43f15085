import { fromKysely, PgBoss, type Job as BossJob, type JobWithMetadata, type KyselyTransactionLike } from 'pg-boss';
import type { BackgroundTask } from '../../../../platform/background/background-loop.ts';
import type { Logger } from '../../../../platform/logging/logger.ts';
import { runWithContext } from '../../../../platform/logging/request-context.ts';
import { continueTrace, currentTraceparent } from '../../../../platform/observability/tracing.ts';
import { JobQueueUnavailableError } from '../../domain/job.errors.ts';
import { jobKinds, type JobKind } from '../../domain/job.ts';
import type { JobMetrics, JobQueueDepth } from '../../application/ports.ts';

/** Runs one attempt of a job of one kind; throwing fails the attempt (pg-boss retries it or dead-letters it). */
export type JobHandler = (jobId: string, attempt: { lastAttempt: boolean; signal: AbortSignal }) => Promise<void>;

/** Retry, timeout and concurrency of every job queue. */
export interface QueueSettings {
  /** Attempts of a job before it is dead (1 = no retry). */
  maxAttempts: number;
  /** First retry delay; doubles each retry, with jitter. */
  retryDelaySeconds: number;
  /** An attempt running longer than this is stopped and counts as failed. */
  timeoutSeconds: number;
  /** Jobs of one kind run at once in this process. */
  concurrency: number;
  /** How often an idle worker looks for new jobs it was not told of (a queued job wakes the workers of its kind at once). */
  pollIntervalSeconds: number;
  /**
   * pg-boss deletes a finished job's queue entry this long after it finished (default one day); the
   * job's record in `jobs.jobs` keeps its outcome, so the queue entry is needed only while it runs.
   */
  finishedRetentionSeconds?: number;
}

/**
 * A running job whose worker sent no heartbeat for this long (pg-boss's minimum; workers send one
 * every half of it) is failed and retried: a worker killed mid-file (kill -9, lost host) costs about
 * this plus one supervision pass, not the whole job timeout.
 */
const heartbeatSeconds = 10;
/** How often pg-boss looks for jobs past their heartbeat or timeout (its default is 60). */
const superviseIntervalSeconds = 5;

interface JobData {
  jobId: string;
  /** The request that caused the job: every attempt logs under it. */
  requestId?: string;
  /** Trace context (W3C traceparent) of the work that queued the job: every attempt's span continues it. */
  traceparent?: string;
}

/** `jobs.catalog-import`: one pg-boss queue per kind. */
export function queueOf(kind: JobKind): string {
  return `jobs.${kind}`;
}

function deadLetterQueueOf(kind: JobKind): string {
  return `${queueOf(kind)}.dead-letter`;
}

/**
 * pg-boss in the module's database (its own `pgboss` schema): one queue per job kind with retries,
 * backoff, a timeout and a dead-letter queue, and this process's workers on them. Started and
 * stopped by the composition root like any background task; jobs are sent through it only while started.
 */
export class PgBossQueues implements BackgroundTask {
  readonly name = 'jobs.pg-boss';
  readonly #databaseUrl: string;
  readonly #logger: Logger;
  readonly #settings: QueueSettings;
  /** The kinds that run as jobs; any other kind's queue is retired. */
  readonly #handlers: Readonly<Partial<Record<JobKind, JobHandler>>>;
  readonly #onDeadLetter: (jobId: string) => Promise<void>;
  readonly #runWorkers: boolean;
  readonly #metrics: JobMetrics | undefined;
  #boss: PgBoss | undefined;
  #starting: Promise<void> | undefined;
  #ready: Promise<void>;
  #markReady: () => void = () => undefined;

  constructor(options: {
    databaseUrl: string;
    logger: Logger;
    settings: QueueSettings;
    handlers: Readonly<Partial<Record<JobKind, JobHandler>>>;
    onDeadLetter: (jobId: string) => Promise<void>;
    /** False in a process that only queues jobs (the api role): pg-boss starts, but this process runs none. */
    runWorkers?: boolean;
    /** Attempt durations and outcomes, dead-lettered jobs. */
    metrics?: JobMetrics;
  }) {
    this.#databaseUrl = options.databaseUrl;
    this.#logger = options.logger;
    this.#settings = options.settings;
    this.#handlers = options.handlers;
    this.#onDeadLetter = options.onDeadLetter;
    this.#runWorkers = options.runWorkers ?? true;
    this.#metrics = options.metrics;
    this.#ready = this.#newReady();
  }

  start(): void {
    this.#starting ??= this.#start().catch((error: unknown) => {
      this.#logger.error({ err: error }, 'the job queues could not start');
    });
  }

  /** Resolves once queues exist and workers (if this process runs them) run. */
  ready(): Promise<void> {
    return this.#ready;
  }

  async stop(): Promise<void> {
    await this.#starting;
    const boss = this.#boss;
    this.#boss = undefined;
    this.#starting = undefined;
    this.#ready = this.#newReady();
    // A job still running after this is failed and retried later from its checkpoint; shutdown does not wait for a whole file.
    if (boss !== undefined) await boss.stop({ graceful: true, timeout: Math.min(10_000, this.#settings.timeoutSeconds * 1000) });
  }

  /** Queues job `jobId` of `kind` inside `transaction`, so it exists exactly when the transaction commits; answers pg-boss's id. */
  async send(kind: JobKind, job: { id: string; requestId: string | null }, transaction: KyselyTransactionLike): Promise<string> {
    const boss = this.#boss;
    if (boss === undefined) throw new JobQueueUnavailableError();
    const traceparent = currentTraceparent();
    const data: JobData = {
      jobId: job.id, ...(job.requestId === null ? {} : { requestId: job.requestId }), ...(traceparent === undefined ? {} : { traceparent }),
    };
    const id = await boss.send(queueOf(kind), data, { db: fromKysely(transaction) });
    if (id === null) throw new Error(`pg-boss did not queue job ${job.id}`);
    return id;
  }

  /**
   * Jobs waiting and running per kind, as pg-boss last counted them (its monitor recounts every few
   * seconds, so this reads one small row per queue, not the job table); empty while not started.
   */
  async depths(): Promise<JobQueueDepth[]> {
    const boss = this.#boss;
    if (boss === undefined) return [];
    const kinds = Object.keys(this.#handlers) as JobKind[];
    const queues = await boss.getQueues(kinds.map(queueOf));
    return kinds.flatMap((kind) => {
      const queue = queues.find((candidate) => candidate.name === queueOf(kind));
      return queue === undefined ? [] : [{ kind, queued: queue.queuedCount, active: queue.activeCount }];
    });
  }

  /** Takes a queued job off its queue; a job already running is left to stop at its next checkpoint. */
  async cancel(kind: JobKind, bossJobId: string): Promise<void> {
    const boss = this.#boss;
    if (boss === undefined) return;
    await boss.cancel(queueOf(kind), bossJobId);
  }

  async #start(): Promise<void> {
    const boss = new PgBoss({
      connectionString: this.#databaseUrl,
      application_name: 'orderstream-jobs',
      // One more connection than before: pg-boss holds one for LISTEN (below).
      max: Math.max(3, this.#settings.concurrency + 3),
      schedule: false,
      // A queued job wakes the workers of its kind at once, in this process or another (the api role
      // queues, the jobs role runs): queueing is rare, so one NOTIFY each costs nothing, and the poll
      // interval stays as the floor should a notification be missed.
      useListenNotify: true,
      superviseIntervalSeconds,
      monitorIntervalSeconds: superviseIntervalSeconds,
      // How soon a worker sees a backlog (below) and bursts through it.
      queueCacheIntervalSeconds: superviseIntervalSeconds,
    });
    boss.on('error', (error) => { this.#logger.error({ err: error }, 'pg-boss reported an error'); });
    await boss.start();
    const { maxAttempts, retryDelaySeconds, timeoutSeconds, concurrency, pollIntervalSeconds } = this.#settings;
    const deleteAfterSeconds = this.#settings.finishedRetentionSeconds ?? 24 * 3600;
    const kinds = Object.keys(this.#handlers) as JobKind[];
    for (const kind of kinds) {
      await createOrUpdateQueue(boss, deadLetterQueueOf(kind), { retryLimit: 2, retryDelay: 5, retryBackoff: true, expireInSeconds: 60, deleteAfterSeconds });
      await createOrUpdateQueue(boss, queueOf(kind), {
        retryLimit: maxAttempts - 1, retryDelay: retryDelaySeconds, retryBackoff: true,
        expireInSeconds: timeoutSeconds, heartbeatSeconds, deadLetter: deadLetterQueueOf(kind), deleteAfterSeconds, notify: true,
      });
    }
    // A kind that no longer runs as a job (invoice, decision 0014): its queue goes, with whatever
    // was left in it; the jobs module's migration ended those jobs' records.
    for (const kind of jobKinds.filter((candidate) => !kinds.includes(candidate))) {
      for (const name of [queueOf(kind), deadLetterQueueOf(kind)]) {
        if ((await boss.getQueue(name)) !== null) await boss.deleteQueue(name);
      }
    }
    for (const kind of this.#runWorkers ? kinds : []) {
      const handler = this.#handlers[kind];
      if (handler === undefined) continue;
      // One job per fetch, so each has its own attempt, timeout and outcome. Without a burst, every
      // worker waits the poll interval after each job however long the queue: a backlog of
      // short jobs drained at about one a second. While
      // the queue holds more than one ready job, workers fetch again at once.
      await boss.work(queueOf(kind), {
        localConcurrency: concurrency, includeMetadata: true, batchSize: 1, pollingIntervalSeconds: pollIntervalSeconds, burstWhenReadyExceeds: 1,
        // Retries come due without a notification: they are found by the poll, as often as without NOTIFY.
        notifyPollingIntervalSeconds: pollIntervalSeconds,
      },
        async (jobs: JobWithMetadata<JobData>[]) => {
          for (const job of jobs) {
            const attempt = () => runWithContext(contextOf(job.data), () => this.#measured(kind, () => handler(job.data.jobId, { lastAttempt: job.retryCount >= job.retryLimit, signal: job.signal })));
            await continueTrace(`jobs.${kind}`, job.data.traceparent, attempt, { role: 'consumer', attributes: jobSpanAttributes(kind, job.data, job.retryCount + 1) });
          }
        });
      await boss.work(deadLetterQueueOf(kind), { batchSize: 1, pollingIntervalSeconds: Math.max(pollIntervalSeconds, 1) },
        async (jobs: BossJob<JobData>[]) => {
          for (const job of jobs) {
            await continueTrace(`jobs.${kind}.dead-letter`, job.data.traceparent, () => runWithContext(contextOf(job.data), () => this.#onDeadLetter(job.data.jobId)), {
              role: 'consumer', attributes: jobSpanAttributes(kind, job.data),
            });
            this.#metrics?.deadLettered(kind);
          }
        });
    }
    this.#boss = boss;
    this.#markReady();
  }

  /** Runs one attempt and reports how long it took and whether it threw (the error goes on to pg-boss). */
  async #measured(kind: JobKind, attempt: () => Promise<void>): Promise<void> {
    const startedAt = performance.now();
    let outcome: 'completed' | 'failed' = 'failed';
    try {
      await attempt();
      outcome = 'completed';
    } finally {
      this.#metrics?.attemptEnded(kind, outcome, (performance.now() - startedAt) / 1000);
    }
  }

  #newReady(): Promise<void> {
    return new Promise<void>((resolve) => { this.#markReady = resolve; });
  }
}

/** What a job attempt's span records: the queue, the job, and which attempt this is. */
function jobSpanAttributes(kind: JobKind, data: JobData, attempt?: number): Record<string, string | number> {
  return {
    'messaging.system': 'pg-boss', 'messaging.destination.name': queueOf(kind), 'orderstream.job_id': data.jobId,
    ...(attempt === undefined ? {} : { 'orderstream.job.attempt': attempt }),
  };
}

function contextOf(data: JobData): { jobId: string; requestId?: string } {
  return { jobId: data.jobId, ...(data.requestId === undefined ? {} : { requestId: data.requestId }) };
}

async function createOrUpdateQueue(boss: PgBoss, name: string, options: {
  retryLimit: number; retryDelay: number; retryBackoff: boolean; expireInSeconds: number; heartbeatSeconds?: number; deadLetter?: string; deleteAfterSeconds: number;
  notify?: boolean;
}): Promise<void> {
  if ((await boss.getQueue(name)) === null) {
    await boss.createQueue(name, options);
    return;
  }
  await boss.updateQueue(name, options);
}
