import { cpus, totalmem } from 'node:os';
import { tracingSampleRatio } from '../src/platform/observability/tracing.ts';
import type { BenchOptions } from './bench-options.ts';
import type { BenchReport, ScenarioResult } from './bench-result.ts';
import type { BenchTarget } from './bench-environment.ts';
import { compareWithCeilings } from './ceiling-ratios.ts';
import type { ScenarioRun } from './run-scenarios.ts';
import { round } from './statistics.ts';

/**
 * The report of a finished run: every result compared with its ceiling, the run failed by any
 * error (of a scenario, or of the invoice downloads), the machine and the settings it ran with.
 */
export function assembleReport(run: ScenarioRun, setting: {
  options: BenchOptions; target: BenchTarget; startedAt: Date; loadAtStart: number; warnings: string[];
}): BenchReport {
  const { results, captured, invoices, invoiceProblem, completesOrders, measuresDatabaseCeiling } = run;
  const { options, target, startedAt, loadAtStart, warnings } = setting;
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
        ? { measured: measuresDatabaseCeiling, how: 'one order\'s statements, captured inside OrderStream\'s process, replayed on the same database' }
        : { measured: false, how: 'not measured in the services shape: the statement capture sees inside one process, and an order there spans several' },
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
  return report;
}

function tracingOf(sampleRatio: number | undefined): BenchReport['settings']['tracing'] {
  return sampleRatio === undefined ? { enabled: false, sampleRatio: null } : { enabled: true, sampleRatio };
}

function sampleOf(result: ScenarioResult): string {
  const samples = result.details.failureSamples;
  return Array.isArray(samples) && samples.length > 0 ? `; e.g. ${String(samples[0])}` : '';
}
