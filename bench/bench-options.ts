import type { ScenarioName } from './bench-result.ts';

/** How a benchmark run is set up. */
export interface BenchOptions {
  /** OrderStream in one process, or the services shape (nginx, two gateways, a process per service); either as child processes of the harness. */
  shape: 'single' | 'services';
  durationSeconds: number;
  warmUpSeconds: number;
  connections: number;
  scenarios: readonly ScenarioName[];
  products: number;
  customers: number;
  /** Longest wait for orders to end (and the background to settle) after a scenario. */
  drainTimeoutSeconds: number;
  /** Orders per second the saga scenario offers; by default half the end-to-end rate place-order measured. */
  sagaRate?: number;
  /** Folder of the JSON results (`bench/results`). */
  resultsDir: string;
  /** Markdown file whose generated section is replaced (`docs/benchmarks.md`); unset writes none. */
  docsFile?: string | undefined;
  /** How the run was started, for the report. */
  command: string;
  /** Run on databases created on this PostgreSQL server instead of starting a fresh embedded one. */
  databaseServerUrl?: string;
  /** The services shape's Kafka brokers; unset: KAFKA_BROKERS, else the local broker of infra/kafka/run.sh. */
  kafkaBrokers?: string;
  /** The services shape's Redis; unset: REDIS_URL, else redis://127.0.0.1:6379. */
  redisUrl?: string;
  /** Progress lines (to stderr in the CLI). */
  log?: (line: string) => void;
}
