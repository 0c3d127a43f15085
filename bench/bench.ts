import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import path from 'node:path';
import { createLogger } from '../src/platform/logging/logger.ts';
import { tracingSampleRatio } from '../src/platform/observability/tracing.ts';
import type { BenchReport, ScenarioName, ScenarioResult } from './bench-result.ts';
import { observerApplication, startBenchTarget, type BenchTarget } from './bench-environment.ts';
import { compareWithCeilings } from './ceiling-ratios.ts';
import { measureInvoiceDownloads } from './invoice-downloads.ts';
import { LoadGeneratorProcess } from './load-generator-process.ts';
import { renderMarkdown, updateDocs } from './report.ts';
import { startServicesBenchTarget } from './services-bench-environment.ts';
import {
  captureOneOrder, catalogRead, databaseCeiling, findSagaRate, httpCeiling, loginStorm, mixed, overload, placeOrder, primitiveCeiling, saga,
  type CapturedOrder, type ScenarioContext,
} from './scenarios.ts';
import { StatementCounter } from './statement-capture.ts';
import { round } from './statistics.ts';

/** How a benchmark run is set up. */
export interface BenchOptions {
  /** OrderStream in one process, or the services shape (nginx, two gateways, a process per service) as child processes. */
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

/**
 * The saga scenario's default pace: half the end-to-end rate place-order measured, a steady state
 * the sagas keep up with (that rate is reached while the drain has nothing else to do; paced by it,
 * the backlog and the latency would only grow), and the "half of peak" the POST latency target names.
 */
function sagaRateFrom(placed: ScenarioResult | undefined): number {
  return Math.max(1, Number(placed?.details.endToEndOrdersPerSecond ?? 0) / 2);
}

/** A finished run: its report and where it was written. */
export interface BenchRun {
  report: BenchReport;
  resultsFile: string;
  docsFile: string | undefined;
}

/**
 * Runs the benchmark: OrderStream in the chosen shape on a fresh embedded PostgreSQL, the chosen
 * scenarios each after a warm-up, the ceilings they are compared with (a bare HTTP server; the
 * database's durable commits and single-row statements per second; the captured order's replay),
 * CPU and memory of every process, and then invoice downloads (each drawn on its first); writes
 * the JSON results and the Markdown table. A run with any non-2xx answer, failed replay, failed
 * invoice download or order left unfinished is reported as failed (`report.ok` false).
 * The services shape has no db-ceiling (the replay): the statement capture it replays wraps `pg` in
 * this process and cannot see the services' processes; for the same reason it counts no statements
 * per order.
 */
export async function runBench(options: BenchOptions): Promise<BenchRun> {
  const log = options.log ?? (() => undefined);
  const startedAt = new Date();
  const loadAtStart = loadavg()[0] ?? 0;
  const warnings: string[] = [];
  const logger = createLogger({ level: 'warn' });
  const wanted = new Set(options.scenarios);
  const load = LoadGeneratorProcess.start();
  // The embedded database runs in its own process group: a Ctrl-C must stop it and remove the folder,
  // not orphan them. (Exiting, rather than dying of the signal, also stops a database still starting.)
  const running: { target?: BenchTarget } = {};
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: stopping the benchmark`);
    void Promise.allSettled([load.stop(), running.target?.close()]).then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const targetOptions = {
    products: options.products, customers: options.customers, logger, log,
    ...(options.databaseServerUrl === undefined ? {} : { databaseServerUrl: options.databaseServerUrl }),
  };
  const starting = options.shape === 'services'
    ? startServicesBenchTarget({ ...targetOptions, kafkaBrokers: options.kafkaBrokers, redisUrl: options.redisUrl })
    : startBenchTarget(targetOptions);
  const target = await starting.catch(async (error: unknown) => {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await load.stop();
    throw error;
  });
  running.target = target;
  const context: ScenarioContext = {
    target, load, durationSeconds: options.durationSeconds, warmUpSeconds: options.warmUpSeconds, connections: options.connections,
    drainTimeoutSeconds: options.drainTimeoutSeconds, log,
    warn: (line) => { warnings.push(line); log(`warning: ${line}`); },
  };
  const results: ScenarioResult[] = [];
  let captured: CapturedOrder | undefined;
  let invoices: BenchReport['invoices'];
  let invoiceProblem: string | undefined;
  const completesOrders = wanted.has('saga') || wanted.has('place-order') || wanted.has('overload');
  const measuresDatabaseCeiling = target.shape === 'single' && completesOrders;
  try {
    if (target.shape === 'single') {
      log('capturing the statements of one order\'s saga');
      captured = await captureOneOrder(context);
      log(`one order: ${captured.counts.statements} statements in ${captured.counts.commits} commits`);
      // Started after the capture has put `pg` back as it was: each wraps the client's query in turn.
      context.statements = new StatementCounter({ ignoredApplication: observerApplication });
      context.statements.start();
    } else {
      log('the services shape has no db-ceiling and counts no statements: the statement capture cannot see the services\' processes');
    }
    if (wanted.has('catalog-read')) {
      results.push(await httpCeiling(context));
      results.push(await catalogRead(context));
    }
    if (wanted.has('login-storm')) results.push(await loginStorm(context));
    let placed: ScenarioResult | undefined;
    if (wanted.has('place-order')) {
      placed = await placeOrder(context);
      results.push(placed);
    }
    if (wanted.has('saga') || wanted.has('overload')) {
      if (options.sagaRate === undefined && placed === undefined) {
        log('saga: measuring the rate to start the search from (a short place-order run)');
        placed = await placeOrder({ ...context, durationSeconds: Math.min(5, context.durationSeconds), warmUpSeconds: 0 }, 'saga calibration');
        if (placed.errors.total > 0) warnings.push(`the saga's calibration run had ${placed.errors.total} errors`);
      }
      // The saga runs at the rate it keeps (searched unless given); the overload offers twice that.
      const search = options.sagaRate === undefined ? await findSagaRate(context, sagaRateFrom(placed)) : undefined;
      const sagaResult = await saga(context, search?.rate ?? options.sagaRate ?? 1, search?.probes);
      if (wanted.has('saga')) results.push(sagaResult);
      if (wanted.has('overload')) results.push(await overload(context, Number(sagaResult.details.offeredOrdersPerSecond), sagaResult.throughput));
    }
    if (wanted.has('mixed')) results.push(await mixed(context));
    // Messages still in flight would fail against the stopping application and be logged as retries;
    // delivered, they have recorded the invoice of every confirmed order.
    await target.observer.settle(options.drainTimeoutSeconds * 1000, { jobs: false });
    ({ invoices, problem: invoiceProblem } = await measureInvoiceDownloads(context));
    context.statements?.stop();
    log(completesOrders ? 'stopping OrderStream for the database ceilings' : 'stopping OrderStream');
    await target.closeApp();
    if (completesOrders) {
      results.push(await primitiveCeiling(context, 'commit'));
      results.push(await primitiveCeiling(context, 'statement'));
    }
    if (measuresDatabaseCeiling && captured !== undefined) results.push(await databaseCeiling(context, captured));
  } finally {
    context.statements?.stop();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await load.stop();
    await target.close();
  }

  compareWithCeilings(results);
  const problems = results.filter((result) => result.errors.total > 0)
    .map((result) => `${result.name}: ${result.errors.total} errors ${JSON.stringify(result.errors)}${sampleOf(result)}`);
  if (invoiceProblem !== undefined) problems.push(invoiceProblem);
  const finishedAt = new Date();
  const config = target.config;
  const report: BenchReport = {
    version: 1,
    ok: problems.length === 0,
    problems,
    warnings,
    command: options.command,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    totalSeconds: round((finishedAt.getTime() - startedAt.getTime()) / 1000),
    machine: {
      cores: cpus().length,
      cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
      memoryGb: round(totalmem() / 1024 ** 3),
      platform: `${process.platform} ${process.arch}`,
      node: process.version,
      postgres: target.postgres.version,
      loadAverageBefore: round(loadAtStart),
    },
    settings: {
      shape: options.shape, durationSeconds: options.durationSeconds, warmUpSeconds: options.warmUpSeconds, connections: options.connections,
      products: options.products, customers: options.customers, drainTimeoutSeconds: options.drainTimeoutSeconds,
      processes: target.shape === 'single' ? null : {
        orderstream: target.processes.app.map((watched) => watched.name), others: target.processes.others.map((watched) => watched.name),
      },
      databaseCeiling: target.shape === 'single'
        ? { measured: measuresDatabaseCeiling, how: 'one order\'s statements, captured in this process, replayed on the same database' }
        : { measured: false, how: 'not measured in the services shape: the statement capture wraps pg in the harness\'s own process and cannot see the services\' processes' },
      physicalCeilings: {
        measured: completesOrders,
        how: `once OrderStream has stopped, on ${target.shape === 'single' ? 'its database' : 'the orders service\'s database'}, over ${options.connections} connections: ` +
          'single-row inserts each committed on its own (commit-ceiling) and primary-key selects outside a transaction (statement-ceiling), in a scratch schema',
      },
      appLogLevel: config.LOG_LEVEL, databasePoolSize: config.DATABASE_POOL_SIZE, messageDeliveryConcurrency: config.MESSAGE_DELIVERY_CONCURRENCY,
      tracing: tracingOf(tracingSampleRatio()),
    },
    invoices,
    orderStatements: captured === undefined ? null : {
      ...captured.counts, capturedUnits: captured.capturedUnits, orderUnits: captured.orderUnits,
      untilConfirmed: captured.untilConfirmed, idleStepTimesMs: captured.idleStepTimesMs,
    },
    results,
  };
  const resultsFile = path.join(options.resultsDir, `${startedAt.toISOString().replace(/\.\d+Z$/, 'Z').replaceAll(':', '-')}.json`);
  await mkdir(options.resultsDir, { recursive: true });
  await writeFile(resultsFile, `${JSON.stringify(report, null, 2)}\n`);
  if (options.docsFile !== undefined) {
    const results = { shown: path.relative(process.cwd(), resultsFile), link: path.relative(path.dirname(options.docsFile), resultsFile) };
    await updateDocs(options.docsFile, report.settings.shape, renderMarkdown(report, results), (generated) => `# Benchmarks\n\n${generated}\n`);
  }
  return { report, resultsFile, docsFile: options.docsFile };
}

function tracingOf(sampleRatio: number | undefined): BenchReport['settings']['tracing'] {
  return sampleRatio === undefined ? { enabled: false, sampleRatio: null } : { enabled: true, sampleRatio };
}

function sampleOf(result: ScenarioResult): string {
  const samples = result.details.failureSamples;
  return Array.isArray(samples) && samples.length > 0 ? `; e.g. ${String(samples[0])}` : '';
}
