import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import path from 'node:path';
import { createLogger } from '../src/platform/logging/logger.ts';
import { assembleReport } from './assemble-report.ts';
import type { BenchOptions } from './bench-options.ts';
import type { BenchReport } from './bench-result.ts';
import { startBenchTarget, type BenchTarget } from './bench-environment.ts';
import { LoadGeneratorProcess } from './load-generator-process.ts';
import { renderMarkdown, updateDocs } from './report.ts';
import { runScenarios, type ScenarioRun } from './run-scenarios.ts';
import type { ScenarioContext } from './scenarios.ts';
import { startServicesBenchTarget } from './services-bench-environment.ts';

export type { BenchOptions } from './bench-options.ts';

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
 * The statement capture the db-ceiling replays, and the statement counts per order, are taken
 * inside the single shape's OrderStream process (a preload the harness talks to); the services
 * shape, whose orders span several processes, has neither.
 */
export async function runBench(options: BenchOptions): Promise<BenchRun> {
  const log = options.log ?? (() => undefined);
  const startedAt = new Date();
  const loadAtStart = loadavg()[0] ?? 0;
  const warnings: string[] = [];
  const logger = createLogger({ level: 'warn' });
  const load = LoadGeneratorProcess.start();
  // The embedded database runs in its own process group: a Ctrl-C must stop it and OrderStream's
  // processes and remove the folder, not orphan them. (Exiting, rather than dying of the signal,
  // also stops a database still starting.)
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
  let run: ScenarioRun;
  try {
    run = await runScenarios(context, options, warnings);
  } finally {
    await context.statements?.stop();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await load.stop();
    await target.close();
  }

  const report = assembleReport(run, { options, target, startedAt, loadAtStart, warnings });
  const resultsFile = path.join(options.resultsDir, `${startedAt.toISOString().replace(/\.\d+Z$/, 'Z').replaceAll(':', '-')}.json`);
  await mkdir(options.resultsDir, { recursive: true });
  await writeFile(resultsFile, `${JSON.stringify(report, null, 2)}\n`);
  if (options.docsFile !== undefined) {
    const results = { shown: path.relative(process.cwd(), resultsFile), link: path.relative(path.dirname(options.docsFile), resultsFile) };
    await updateDocs(options.docsFile, report.settings.shape, renderMarkdown(report, results), (generated) => `# Benchmarks\n\n${generated}\n`);
  }
  return { report, resultsFile, docsFile: options.docsFile };
}
