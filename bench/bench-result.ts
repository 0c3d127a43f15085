import type { OrderStatementCounts } from './order-statements.ts';
import type { ResourceUsage } from './resource-sampler.ts';
import type { Percentiles } from './statistics.ts';

/** The scenarios `orderstream bench --scenario` can run. */
export const scenarioNames = ['catalog-read', 'login-storm', 'place-order', 'saga', 'overload', 'mixed', 'console', 'export', 'import'] as const;
export type ScenarioName = (typeof scenarioNames)[number];

/**
 * The ceilings scenarios are compared with: a bare HTTP server; the database's physical limits
 * (durable commits per second, single-row statements per second); and the replay of one captured
 * order's own statements (`db-ceiling`), which measures how well the design uses the database, not
 * how far it is from what the database can do; PostgreSQL's own COPY of the import's file into a
 * table of the catalogue file's columns (`copy-in-ceiling`) and of every order out to nowhere (`copy-out-ceiling`).
 */
export type CeilingName = 'http-ceiling' | 'commit-ceiling' | 'statement-ceiling' | 'db-ceiling' | 'copy-in-ceiling' | 'copy-out-ceiling';

/** The ceilings measured on the database, in the order the report lists them. */
export const databaseCeilingNames = ['commit-ceiling', 'statement-ceiling', 'db-ceiling'] as const satisfies readonly CeilingName[];

/**
 * What a scenario's completed orders asked of PostgreSQL under load, and its share of each database
 * ceiling: `perOrder × ordersPerSecond` is the rate asked of the database, divided by the ceiling's.
 */
export interface DatabaseLoad {
  /** The rate the per-order figures are multiplied by. */
  ordersPerSecond: number;
  /** Which orders those are: the saga's completions in the measured window, or place-order's end-to-end rate (drain included). */
  ordersBasis: 'completions in the measured window' | 'end to end';
  /** Committed transactions per completed order (`xact_commit` of pg_stat_database; read-only ones included). */
  commitsPerOrder: number | null;
  /**
   * Statements per completed order other than BEGIN and COMMIT, as the process's `pg` clients sent
   * them; null in the services shape, whose clients are in other processes.
   */
  statementsPerOrder: number | null;
  commitsPerSecond: number | null;
  statementsPerSecond: number | null;
  /** `commitsPerSecond` as a share of commit-ceiling; null when either is missing. */
  commitCeilingShare: number | null;
  /** `statementsPerSecond` as a share of statement-ceiling; null when either is missing. */
  statementCeilingShare: number | null;
  /** `ordersPerSecond` as a share of db-ceiling (the captured order replayed); null when it was not measured. */
  replayShare: number | null;
}

/** Everything that went wrong in one scenario; any of it makes the run fail. */
export interface ScenarioErrors {
  total: number;
  non2xx: number;
  /** Connection errors, timeouts included. */
  connectionErrors: number;
  timeouts: number;
  /** Requests the open-loop sender could not even send, because too many were waiting. */
  dropped: number;
  /** Orders not CONFIRMED or CANCELLED when the drain period ended. */
  unfinishedOrders: number;
  /** Orders CANCELLED although nothing in the benchmark should cancel one. */
  cancelledOrders: number;
  /** Database work of a database ceiling that failed: a replayed order (db-ceiling), a commit or a statement (commit- and statement-ceiling). */
  failedReplays: number;
}

/** One row of the results: a scenario or a ceiling. */
export interface ScenarioResult {
  name: ScenarioName | CeilingName;
  kind: 'scenario' | 'ceiling';
  /** What `throughput` counts per second. */
  metric: 'req/s' | 'orders/s' | 'completions/s' | 'sign-ins/s' | 'commits/s' | 'statements/s' | 'rows/s';
  throughput: number;
  /**
   * Request latency, or POST→CONFIRMED for the saga, or the catalogue reads' during the login storm,
   * or one commit's or statement's on its connection (commit- and statement-ceiling); null where
   * nothing has a latency (db-ceiling).
   */
  latencyMs: Percentiles | null;
  /**
   * The scenario's share of the ceiling that bounds it: catalog-read's of http-ceiling, import's of
   * copy-in-ceiling, export's of copy-out-ceiling; for scenarios
   * that complete orders, the larger of their commit-ceiling and statement-ceiling shares (see `databaseLoad`).
   */
  ratio: { ceiling: CeilingName; value: number } | null;
  /** What the scenario's completed orders cost the database under load (saga, place-order); null for the others. */
  databaseLoad: DatabaseLoad | null;
  errors: ScenarioErrors;
  durationSeconds: number;
  warmUpSeconds: number;
  connections: number;
  resources: ResourceUsage;
  /** What else the scenario learned, described by its own keys. */
  details: Record<string, unknown>;
}

/** The machine a run happened on. */
export interface MachineDescription {
  cores: number;
  cpuModel: string;
  memoryGb: number;
  platform: string;
  node: string;
  postgres: string;
  /** 1-minute load average just before the run: other work on the machine skews every figure. */
  loadAverageBefore: number;
}

/** One round of invoice downloads, each by the order's owner (`GET /v1/orders/{id}/invoice`). */
export interface InvoiceDownloads {
  count: number;
  /** Downloads not answered 200 with a PDF, or not answered at all. */
  failed: number;
  /** From sending the request to the last byte of the body, of the downloads that succeeded (0 when none did). */
  p50Ms: number;
  p99Ms: number;
}

/** A whole benchmark run, as written to bench/results/<timestamp>.json. */
export interface BenchReport {
  version: 1;
  ok: boolean;
  /** Why the run failed, or what deserves a look; empty when all is well. */
  problems: string[];
  warnings: string[];
  command: string;
  startedAt: string;
  finishedAt: string;
  totalSeconds: number;
  machine: MachineDescription;
  settings: {
    shape: 'single' | 'services';
    /**
     * The services shape's processes by name: OrderStream's (gateways, services; the table's `app`
     * is their sum) and the others (nginx, the Kafka broker when it is found). Null in the single
     * shape, whose one process (a child of the harness, as the services') is the table's `app`.
     */
    processes: { orderstream: string[]; others: string[] } | null;
    /** Whether the db-ceiling (the captured order's replay) was measured, and how (or why not). */
    databaseCeiling: { measured: boolean; how: string };
    /** Whether commit-ceiling and statement-ceiling were measured, and how. */
    physicalCeilings: { measured: boolean; how: string };
    durationSeconds: number;
    warmUpSeconds: number;
    connections: number;
    products: number;
    customers: number;
    drainTimeoutSeconds: number;
    appLogLevel: string;
    /** Per OrderStream process (each service has its own pool in the services shape). */
    databasePoolSize: number;
    messageDeliveryConcurrency: number;
    /** Whether OrderStream exported traces during the run (OTEL_EXPORTER_OTLP_ENDPOINT set), and the share of traces sampled. */
    tracing: { enabled: boolean; sampleRatio: number | null };
  };
  /**
   * The run's invoices once the scenarios ended (decision 0014): recorded at each order's confirmation,
   * drawn on the first download. Up to 100 confirmed orders' invoices are then downloaded by their
   * owners, 4 at a time: first (each drawn then), and again (the stored document).
   */
  invoices: {
    /** Invoices recorded in the run, one per confirmed order. */
    recorded: number;
    /** Those drawn, by the time OrderStream stopped: the ones downloaded. */
    drawn: number;
    firstDownloads: InvoiceDownloads;
    storedDownloads: InvoiceDownloads;
  } | null;
  /** One order's saga as captured from the real flow, and what it costs the database. */
  orderStatements: (OrderStatementCounts & {
    capturedUnits: number;
    orderUnits: number;
    /** The part up to the order's confirmation; the rest is its aftermath (emails, the invoice record). */
    untilConfirmed: { statements: number; commits: number };
    idleStepTimesMs: { step: string; p50Ms: number }[];
  }) | null;
  results: ScenarioResult[];
}

/** Errors with every count at zero. */
export function noErrors(): ScenarioErrors {
  return { total: 0, non2xx: 0, connectionErrors: 0, timeouts: 0, dropped: 0, unfinishedOrders: 0, cancelledOrders: 0, failedReplays: 0 };
}

/** `errors` with its total brought up to date. */
export function withTotal(errors: Omit<ScenarioErrors, 'total'>): ScenarioErrors {
  const total = errors.non2xx + errors.connectionErrors + errors.dropped + errors.unfinishedOrders + errors.cancelledOrders + errors.failedReplays;
  return { ...errors, total };
}
