import type { BenchReport, ScenarioErrors, ScenarioResult } from './bench-result.ts';

const rowOrder = ['http-ceiling', 'catalog-read', 'login-storm', 'place-order', 'saga', 'overload', 'mixed', 'console', 'copy-out-ceiling', 'export', 'copy-in-ceiling', 'import', 'commit-ceiling', 'statement-ceiling', 'db-ceiling'];

/** The table's columns. */
export const headers = ['scenario', 'throughput', 'p50 ms', 'p95 ms', 'p99 ms', 'ratio to ceiling', 'errors', 'app CPU s', 'app peak RSS MB', 'pg CPU s', 'pg peak RSS MB', 'load gen CPU s'];

/** The results table as rows of cells, in a fixed order: each ceiling just before what is compared with it. */
export function tableRows(report: BenchReport): string[][] {
  return orderedResults(report).map((result) => [
    result.kind === 'ceiling' ? `(${result.name})` : result.name,
    `${formatNumber(result.throughput)} ${result.metric}`,
    formatLatency(result, 'p50'),
    formatLatency(result, 'p95'),
    formatLatency(result, 'p99'),
    ratioCell(result),
    formatErrors(result.errors),
    String(result.resources.app.cpuSeconds),
    String(result.resources.app.peakRssMb),
    result.resources.postgres === null ? '—' : String(result.resources.postgres.cpuSeconds),
    result.resources.postgres === null ? '—' : String(result.resources.postgres.peakRssMb),
    result.resources.loadGenerator === null ? '—' : String(result.resources.loadGenerator.cpuSeconds),
  ]);
}

/** The ratio to the nearest ceiling; for scenarios that complete orders, also to the replay of the captured order. */
function ratioCell(result: ScenarioResult): string {
  const replay = result.databaseLoad?.replayShare ?? null;
  const parts = [
    ...(result.ratio === null || result.ratio.ceiling === 'db-ceiling' ? [] : [`${result.ratio.value.toFixed(2)} of ${result.ratio.ceiling}`]),
    ...(replay === null ? [] : [`${replay.toFixed(2)} of db-ceiling (replay)`]),
  ];
  return parts.length === 0 ? '—' : parts.join('; ');
}

/** The results in the table's order. */
export function orderedResults(report: BenchReport): ScenarioResult[] {
  return [...report.results].sort((left, right) => rowOrder.indexOf(left.name) - rowOrder.indexOf(right.name));
}

function formatLatency(result: ScenarioResult, percentile: 'p50' | 'p95' | 'p99'): string {
  return result.latencyMs === null ? '—' : result.latencyMs[percentile].toFixed(1);
}

function formatErrors(errors: ScenarioErrors): string {
  if (errors.total === 0) return '0';
  const parts = [
    ['non-2xx', errors.non2xx], ['connection', errors.connectionErrors], ['dropped', errors.dropped],
    ['unfinished', errors.unfinishedOrders], ['cancelled', errors.cancelledOrders], ['failed in the database', errors.failedReplays],
  ].filter(([, count]) => Number(count) > 0).map(([label, count]) => `${String(label)} ${String(count)}`);
  return `✗ ${errors.total} (${parts.join(', ')})`;
}

/** A figure as the report shows it: whole and grouped from 100 up. */
export function formatNumber(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : String(value);
}
