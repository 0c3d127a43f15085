/**
 * The jobs module's door for composition roots (other modules import only contract.ts): its factory,
 * its migrations and its contract again. Document jobs (catalogue imports, order exports) run on pg-boss queues in
 * the module's database; their records, progress and row errors live in the `jobs` schema. Invoice
 * PDFs are drawn when first downloaded (decision 0014).
 */
import type { BackgroundTask } from '../../platform/background/background-loop.ts';
import type { WorkLimiter } from '../../platform/concurrency/work-limiter.ts';
import type { Database } from '../../platform/database/database.ts';
import { RetentionSweeper, type BatchLimits, type RetentionMetrics } from '../../platform/database/retention-sweeper.ts';
import type { MigrationSet } from '../../platform/database/migrations.ts';
import type { RouteRegistration } from '../../platform/http/app.ts';
import type { Logger } from '../../platform/logging/logger.ts';
import { tracedUseCase } from '../../platform/observability/tracing.ts';
import type { MessageConsumer } from '../../platform/messaging/index.ts';
import type { CatalogClient, CatalogImportClient } from '../catalog/contract.ts';
import type { InventoryClient } from '../inventory/contract.ts';
import type { OrdersExportClient } from '../orders/contract.ts';
import { CancelJob } from './application/cancel-job.ts';
import type { DocumentStore, JobMetrics, JobQueueDepth } from './application/ports.ts';
import { FailJob } from './application/fail-job.ts';
import { FollowJob } from './application/follow-job.ts';
import { GetExportFile } from './application/get-export-file.ts';
import { GetInvoice } from './application/get-invoice.ts';
import { GetJob } from './application/get-job.ts';
import { ListJobs } from './application/list-jobs.ts';
import { RemoveExpiredDocuments } from './application/remove-expired-documents.ts';
import { RunExport } from './application/run-export.ts';
import { RunImport } from './application/run-import.ts';
import { StartExport } from './application/start-export.ts';
import { StartImport } from './application/start-import.ts';
import { DocumentRetention } from './adapters/background/document-retention.ts';
import { CsvParseReader } from './adapters/csv/csv-parse-reader.ts';
import { FilesystemDocumentStore } from './adapters/documents/filesystem-document-store.ts';
import { S3DocumentStore, type S3DocumentStoreOptions } from './adapters/documents/s3-document-store.ts';
import { jobsRoutes } from './adapters/http/jobs-routes.ts';
import { orderConfirmedConsumer } from './adapters/messaging/order-confirmed-consumer.ts';
import { catalogProducts, inventoryStockLevels, ordersToExport } from './adapters/modules/module-clients.ts';
import { PdfkitInvoiceRenderer } from './adapters/pdf/pdfkit-invoice-renderer.ts';
import { PgBossQueues } from './adapters/pg-boss/pg-boss-queues.ts';
import { PgExpiredJobs } from './adapters/postgres/pg-expired-jobs.ts';
import { PgExportParts } from './adapters/postgres/pg-export-parts.ts';
import { PgImportTransactions } from './adapters/postgres/pg-import-transactions.ts';
import { PgInvoiceRepository } from './adapters/postgres/pg-invoice-repository.ts';
import { PgJobRepository } from './adapters/postgres/pg-job-repository.ts';
import { PgJobSubmitter } from './adapters/postgres/pg-job-submitter.ts';
import { jobRetentionRules } from './adapters/postgres/job-retention.ts';

export * from './contract.ts';
export { jobsMessageSchemas } from './adapters/messaging/jobs-message-schemas.ts';
export type { JobMetrics, JobQueueDepth } from './application/ports.ts';

export const jobsMigrations: MigrationSet = {
  module: 'jobs',
  schema: 'jobs',
  directory: new URL('./adapters/postgres/migrations/', import.meta.url),
};

export interface JobsModule {
  routes: RouteRegistration;
  /** `jobs.invoice-on-confirmation` (orders.confirmed): records the order's invoice. */
  consumers: MessageConsumer[];
  /**
   * `jobs.pg-boss`: starts pg-boss, its queues and (unless `runWorkers` is false) this process's workers; stops them gracefully.
   * `jobs.document-retention` (with `retention`): removes the stored documents of finished jobs past their retention.
   * `jobs.retention` (with `retention`): then deletes those jobs' rows.
   */
  background: BackgroundTask[];
  /** Resolves once the queues are up (after the background task started); for tests and readiness. */
  whenReady(): Promise<void>;
  /** Jobs waiting and running per kind (metrics); empty until the queues are up. */
  queueDepths(): Promise<JobQueueDepth[]>;
  /** What bounds this module's expensive work (PDF rendering), for metrics. */
  workLimiters: readonly WorkLimiter[];
}

/** What the jobs module is built from: its database, where documents are kept, the modules it calls, and how its jobs run. */
export interface JobsModuleDeps {
  db: Database;
  logger: Logger;
  /** The same database as `db`: pg-boss opens its own small pool and keeps its tables in schema `pgboss`. */
  databaseUrl: string;
  /** Where uploads, invoice PDFs and error reports are kept: a folder, or an S3 bucket. */
  documents: { store: 'filesystem'; directory: string } | ({ store: 's3' } & S3DocumentStoreOptions);
  catalog: CatalogClient & CatalogImportClient;
  inventory: InventoryClient;
  /** Where exports read orders: the orders module, in this process or over HTTP. */
  orders: OrdersExportClient;
  devIdentityHeaders: boolean;
  /** Largest CSV upload accepted; larger ones get 413 and leave nothing behind. */
  importMaxBytes: number;
  /** Jobs of one kind this process runs at once. */
  jobConcurrency: number;
  /** Seller named on invoices (as it is when the order is confirmed). */
  invoiceSeller: string;
  /** Invoices drawn at once in this process; a download waits its turn up to `pdfRenderMaxWaitMs`. Default 1. */
  pdfRenderConcurrency?: number;
  /** Longest a first download waits for a turn to draw before 503 with Retry-After. Default 5,000. */
  pdfRenderMaxWaitMs?: number;
  /** Attempts of a job before it is dead-lettered and marked failed. Default 3. */
  jobMaxAttempts?: number;
  /** First retry delay; doubles with each retry, with jitter. Default 5. */
  jobRetryDelaySeconds?: number;
  /** An attempt longer than this is stopped and counts as failed. Default 900. */
  jobTimeoutSeconds?: number;
  /** How often an idle worker looks for jobs. Default 1 (minimum 0.5). */
  jobPollIntervalSeconds?: number;
  /** pg-boss deletes a finished job's queue entry this long after it finished; the job record stays. Default one day. */
  jobQueueRetentionSeconds?: number;
  /**
   * The catalog's and inventory's writers are in this process on `db`: an import chunk's products,
   * stock levels and checkpoint then commit in one transaction. Otherwise (over HTTP) each commits on
   * its own, the chunk's key making a repeated request harmless. Default false.
   */
  importChunksInOneTransaction?: boolean;
  /** Rows per chunk of an import: written in one request to the catalog and one to inventory, and committed with its checkpoint. Default 2,000. */
  importBatchSize?: number;
  /** Orders per part of an export: read in one page and stored as one document, recorded with the job's progress. Default 5,000. */
  exportPartSize?: number;
  /** How the job event streams (GET /v1/jobs/{id}/events) read a job and bound themselves. Default: every 500 ms, a heartbeat each 15 s, 100 streams of at most an hour. */
  jobEvents?: { pollMs?: number; heartbeatMs?: number; maxStreams?: number; maxLifetimeMs?: number };
  /** Whether this process runs job workers; false where it only queues them (the api role). Default true. */
  runWorkers?: boolean;
  /** Attempt durations and outcomes, dead-lettered jobs; nothing is reported without it. */
  metrics?: JobMetrics;
  /**
   * How long finished jobs are kept, with their documents, and how their sweepers run; without it they
   * are kept for ever. Documents are removed in batches of at most 100 jobs (fewer with a smaller `batchSize`).
   */
  retention?: { jobSeconds: number; intervalMs: number; limits: BatchLimits; metrics?: RetentionMetrics };
}

/** Wires the jobs module: uploads, exports and the job API, the invoice consumer, and pg-boss workers. */
export function createJobsModule(deps: JobsModuleDeps): JobsModule {
  const { db, logger } = deps;
  const log = logger.child({ module: 'jobs' });
  const jobs = new PgJobRepository(db);
  const invoices = new PgInvoiceRepository(db);
  const documents = deps.documents.store === 's3'
    ? new S3DocumentStore(deps.documents)
    : new FilesystemDocumentStore({ directory: deps.documents.directory });
  const csv = new CsvParseReader({ documents });
  const runImport = tracedUseCase('jobs.run-import', new RunImport({
    jobs, csv, catalog: catalogProducts(deps.catalog), stock: inventoryStockLevels(deps.inventory),
    ...(deps.importChunksInOneTransaction === true ? { transactions: new PgImportTransactions(db) } : {}),
    ...(deps.importBatchSize === undefined ? {} : { chunkSize: deps.importBatchSize }),
  }));
  const parts = new PgExportParts(db);
  const runExport = tracedUseCase('jobs.run-export', new RunExport({
    jobs, parts, orders: ordersToExport(deps.orders), documents, ...(deps.exportPartSize === undefined ? {} : { partSize: deps.exportPartSize }),
  }));
  const jobTimeoutSeconds = deps.jobTimeoutSeconds ?? 900;
  // Downloads draw: a few wait their turn, briefly; past that the download is refused, 503 with Retry-After.
  const renderer = new PdfkitInvoiceRenderer({
    concurrency: deps.pdfRenderConcurrency ?? 1, maxQueued: 64, maxWaitMs: deps.pdfRenderMaxWaitMs ?? 5000,
  });
  const failJob = new FailJob({ jobs });
  const queues = new PgBossQueues({
    databaseUrl: deps.databaseUrl,
    logger: log,
    settings: {
      maxAttempts: deps.jobMaxAttempts ?? 3,
      retryDelaySeconds: deps.jobRetryDelaySeconds ?? 5,
      timeoutSeconds: jobTimeoutSeconds,
      concurrency: deps.jobConcurrency,
      pollIntervalSeconds: Math.max(0.5, deps.jobPollIntervalSeconds ?? 1),
      ...(deps.jobQueueRetentionSeconds === undefined ? {} : { finishedRetentionSeconds: deps.jobQueueRetentionSeconds }),
    },
    handlers: {
      'catalog-import': async (jobId, attempt) => {
        log.info({ lastAttempt: attempt.lastAttempt }, 'import attempt started');
        await runImport.execute(jobId, attempt);
        log.info('import attempt ended');
      },
      'order-export': async (jobId, attempt) => {
        log.info({ lastAttempt: attempt.lastAttempt }, 'export attempt started');
        await runExport.execute(jobId, attempt);
        log.info('export attempt ended');
      },
    },
    onDeadLetter: async (jobId) => {
      await failJob.execute(jobId, 'dead-lettered');
      log.warn('job dead-lettered after its last attempt');
    },
    runWorkers: deps.runWorkers ?? true,
    metrics: deps.metrics,
  });
  const submitter = new PgJobSubmitter(db, queues);
  return {
    routes: jobsRoutes({
      startImport: tracedUseCase('jobs.start-import', new StartImport({ documents, csv, jobs: submitter, maxBytes: deps.importMaxBytes })),
      getJob: tracedUseCase('jobs.get-job', new GetJob({ jobs })),
      listJobs: tracedUseCase('jobs.list-jobs', new ListJobs({ jobs })),
      cancelJob: tracedUseCase('jobs.cancel-job', new CancelJob({ jobs, queue: submitter })),
      getInvoice: tracedUseCase('jobs.get-invoice', new GetInvoice({ invoices, documents, renderer, seller: deps.invoiceSeller })),
      followJob: new FollowJob({ jobs, pollMs: deps.jobEvents?.pollMs ?? 500 }),
      startExport: tracedUseCase('jobs.start-export', new StartExport({ jobs: submitter })),
      getExportFile: tracedUseCase('jobs.get-export-file', new GetExportFile({ jobs, parts, documents })),
    }, {
      devIdentityHeaders: deps.devIdentityHeaders, importMaxBytes: deps.importMaxBytes,
      events: { heartbeatMs: deps.jobEvents?.heartbeatMs ?? 15_000, maxStreams: deps.jobEvents?.maxStreams ?? 100, maxLifetimeMs: deps.jobEvents?.maxLifetimeMs ?? 3_600_000 },
    }),
    consumers: [orderConfirmedConsumer({ invoiceSeller: deps.invoiceSeller })],
    background: [
      queues,
      ...(deps.retention === undefined ? [] : retentionTasks(deps, documents, deps.retention)),
    ],
    whenReady: () => queues.ready(),
    queueDepths: () => queues.depths(),
    workLimiters: [renderer.limiter],
  };
}

/**
 * Retention of finished jobs: their stored documents are removed first (`jobs.document-retention`, at
 * most 100 jobs a batch), then their rows (`jobs.retention`), which wait for their documents.
 */
function retentionTasks(deps: JobsModuleDeps, documents: DocumentStore, retention: NonNullable<JobsModuleDeps['retention']>): BackgroundTask[] {
  const { db, logger } = deps;
  const removeExpired = new RemoveExpiredDocuments({
    expired: new PgExpiredJobs(db, retention.jobSeconds), documents,
    limits: { batchSize: Math.min(100, retention.limits.batchSize), maxBatches: retention.limits.maxBatches, pauseMs: retention.limits.pauseMs },
  });
  return [
    new DocumentRetention({ removeExpired, logger: logger.child({ module: 'jobs' }), intervalMs: retention.intervalMs }),
    new RetentionSweeper({ name: 'jobs.retention', db, logger, ...retention, rules: jobRetentionRules(retention.jobSeconds) }),
  ];
}
