import type { BenchReport, InvoiceDownloads, ScenarioResult } from './bench-result.ts';
import { formatNumber, orderedResults } from './report-table.ts';
import type { Percentiles } from './statistics.ts';

/** The physical ceilings measured, then each order-completing scenario's load against them, a sentence each. */
export function databaseSummaries(report: BenchReport): string[] {
  const ceilings = orderedResults(report).filter((result) => result.name === 'commit-ceiling' || result.name === 'statement-ceiling').map(physicalCeilingSummary);
  const loads = orderedResults(report).flatMap((result) => (result.databaseLoad === null ? [] : [databaseLoadSummary(result, report)]));
  return [...ceilings, ...loads];
}

/** A physical ceiling in a sentence: what it repeats, over how many connections, with which durability, how fast. */
export function physicalCeilingSummary(ceiling: ScenarioResult): string {
  const what = ceiling.name === 'commit-ceiling'
    ? `single-row inserts, each committed on its own (synchronous_commit ${detail(ceiling, 'synchronousCommit')}, fsync ${detail(ceiling, 'fsync')}, ` +
      `wal_sync_method ${detail(ceiling, 'walSyncMethod')})`
    : 'primary-key selects outside a transaction';
  return `${ceiling.name}: ${what} over ${ceiling.connections} connections (${detail(ceiling, 'callers')} callers): ` +
    `${formatNumber(ceiling.throughput)} ${ceiling.metric}, p50 ${ceiling.latencyMs?.p50 ?? '?'} ms, p99 ${ceiling.latencyMs?.p99 ?? '?'} ms on the connection.`;
}

/**
 * What a scenario's orders asked of the database against the ceilings, in a sentence:
 * `N commits per order × R orders/s = C commits/s, S% of the commit-ceiling`, the same for statements,
 * then the share of the captured order's replay.
 */
export function databaseLoadSummary(result: ScenarioResult, report: BenchReport): string {
  const load = result.databaseLoad;
  if (load === null) return '';
  const ceilingOf = (name: string) => report.results.find((candidate) => candidate.name === name);
  const against = (perOrder: number | null, perSecond: number | null, share: number | null, what: string, ceilingName: string): string => {
    if (perOrder === null || perSecond === null) return `${what} per order not counted${report.settings.shape === 'services' ? ' (the services\' clients are other processes)' : ''}`;
    const ceiling = ceilingOf(ceilingName);
    const ofCeiling = share === null || ceiling === undefined ? `no ${ceilingName} measured`
      : `${formatShare(share)} of the ${ceilingName} (${formatNumber(ceiling.throughput)} ${ceiling.metric})`;
    return `${formatNumber(perOrder)} ${what} per order × ${formatNumber(load.ordersPerSecond)} orders/s = ${formatNumber(perSecond)} ${what}/s, ${ofCeiling}`;
  };
  const replay = ceilingOf('db-ceiling');
  const replayText = load.replayShare === null || replay === undefined ? ''
    : `; ${load.replayShare.toFixed(2)} of the db-ceiling (${formatNumber(replay.throughput)} orders/s replaying the captured order's own statements: how well the design uses the database, not its limit)`;
  const placing = result.name === 'place-order' && typeof result.details.commitsPerSecondWhilePlacing === 'number'
    ? `; while the POSTs ran, ${detail(result, 'commitsPerSecondWhilePlacing')} commits/s${typeof result.details.statementsPerSecondWhilePlacing === 'number' ? ` and ${detail(result, 'statementsPerSecondWhilePlacing')} statements/s` : ''}`
    : '';
  return `${result.name}, database load (${load.ordersBasis === 'end to end' ? 'its orders from first created to last confirmed, drain included' : 'the orders completed in the measured window'}): ` +
    `${against(load.commitsPerOrder, load.commitsPerSecond, load.commitCeilingShare, 'commits', 'commit-ceiling')}; ` +
    `${against(load.statementsPerOrder, load.statementsPerSecond, load.statementCeilingShare, 'statements', 'statement-ceiling')}${replayText}${placing}.`;
}

/** A share as a percentage with one decimal. */
export function formatShare(share: number): string {
  return `${Math.round(share * 1000) / 10}%`;
}

/** The saga in a sentence: its pace (and how it was found), completions, POST→CONFIRMED and the time to each step. */
export function sagaSummary(saga: ScenarioResult): string {
  const latency = saga.latencyMs;
  const post = saga.details.postLatencyMs as { p50: number; p99: number } | undefined;
  const steps = Array.isArray(saga.details.stepTimesMs) ? (saga.details.stepTimesMs as { step: string; p50Ms: number; p95Ms: number }[]) : [];
  // A step recorded in the same transaction as the one before it (confirmed, after stock-committed) took no time of its own.
  const stepText = steps.filter((step) => step.p95Ms > 0).map((step) => `${step.step} ${step.p50Ms}/${step.p95Ms}`).join(', ');
  const search = Array.isArray(saga.details.rateSearch) ? (saga.details.rateSearch as { rate: number; completionsPerSecond: number; p99Ms: number | null; kept: boolean }[]) : [];
  const searchText = search.length === 0 ? '' : ` (the highest of ${search.length} short probes at which POST→CONFIRMED p99 stayed under 1 s and completions kept up: ` +
    `${search.map((probe) => `${probe.rate}/s ${probe.kept ? 'kept' : 'not kept'}, p99 ${probe.p99Ms ?? '?'} ms`).join('; ')})`;
  return `saga: ${detail(saga, 'offeredOrdersPerSecond')} orders/s offered at a steady pace${searchText}, ${formatNumber(saga.throughput)} completions/s; ` +
    `POST→CONFIRMED p50 ${latency?.p50 ?? '?'} ms, p95 ${latency?.p95 ?? '?'} ms, p99 ${latency?.p99 ?? '?'} ms; POST alone (at that pace) p50 ${post?.p50 ?? '?'} ms, p99 ${post?.p99 ?? '?'} ms` +
    `${stepText === '' ? '' : `; time to each step from the one before (p50/p95 ms): ${stepText}`}.`;
}

/** The overload in a sentence: what finished, what was refused, and how long the accepted ones took. */
export function overloadSummary(overload: ScenarioResult): string {
  const latency = overload.latencyMs;
  return `overload: ${detail(overload, 'offeredOrdersPerSecond')} orders/s offered (twice the saga's rate) for ${overload.durationSeconds} s: ` +
    `${formatNumber(overload.throughput)} completions/s (${formatShare(Number(overload.details.completionsShareOfSaga ?? 0))} of the saga's); ` +
    `${formatShare(Number(overload.details.refusedShare ?? 0))} of the POSTs refused with 503 (${detail(overload, 'refusedWithRetryAfter')} of them with Retry-After); ` +
    `accepted orders POST→CONFIRMED p50 ${latency?.p50 ?? '?'} ms, p99 ${latency?.p99 ?? '?'} ms; ${detail(overload, 'unfinishedAtEnd')} orders unfinished when the offer stopped.`;
}

/** The login storm in a sentence: sign-ins, refusals, and what the storm did to catalogue reads. */
export function loginStormSummary(storm: ScenarioResult): string {
  const idle = storm.details.catalogueReadLatencyIdleMs as Percentiles | undefined;
  const during = storm.details.catalogueReadLatencyDuringStormMs as Percentiles | undefined;
  const signIn = storm.details.signInLatencyMs as Percentiles | null | undefined;
  const refusedShare = Number(storm.details.refusedShare ?? 0);
  return `login-storm: ${detail(storm, 'signInConnections')} connections signing in as fast as answered for ${storm.durationSeconds} s: ` +
    `${formatNumber(storm.throughput)} sign-ins/s (p50 ${signIn?.p50 ?? '?'} ms, p99 ${signIn?.p99 ?? '?'} ms), ` +
    `${(refusedShare * 100).toFixed(1)}% answered 503 by the password-hashing limiter; catalogue reads at ${detail(storm, 'catalogueReadsPerSecond')}/s ` +
    `idle p50 ${idle?.p50 ?? '?'} ms, p99 ${idle?.p99 ?? '?'} ms, during the storm p50 ${during?.p50 ?? '?'} ms, p99 ${during?.p99 ?? '?'} ms ` +
    `(p99 ${detail(storm, 'catalogueP99ToIdle')}× idle; the table's latencies are these reads' during the storm).`;
}

/** One order's statements in a sentence: commits, transactions, reads and writes by table, and its steps' times on the idle system. */
export function statementSummary(report: BenchReport): string {
  const counts = report.orderStatements;
  if (counts === null) return '';
  const tables = Object.entries(counts.byTable).map(([table, count]) => `${table} ${count}`).join(', ');
  return `one order (captured from the real flow, its email and invoice included): ${counts.statements} statements in ${counts.commits} commits ` +
    `(${counts.transactions} transactions, ${counts.autocommitStatements} single statements; ${counts.untilConfirmed.statements} statements in ` +
    `${counts.untilConfirmed.commits} commits up to CONFIRMED), ${counts.reads} reads and ${counts.writes} writes` +
    `${counts.rolledBack > 0 ? `, plus ${counts.rolledBack} rolled-back transactions` : ''}; by table: ${tables}. ` +
    `On the idle system its steps took (ms from the step before): ${counts.idleStepTimesMs.filter((step) => step.p50Ms > 0).map((step) => `${step.step} ${step.p50Ms}`).join(', ')}.`;
}

/** The console's reads in a sentence: each read's p50/p95/p99, and whether every p95 is under the target. */
export function consoleSummary(result: ScenarioResult): string {
  const reads = Object.entries(result.details.reads ?? {}) as [string, Percentiles][];
  const each = reads.map(([name, figures]) => `${name} ${figures.p50}/${figures.p95}/${figures.p99}`).join(', ');
  const target = detail(result, 'targetMs');
  const verdict = result.details.withinTarget === true
    ? `every read's p95 under the ${target} ms target (slowest: ${detail(result, 'slowestRead')}, ${detail(result, 'slowestP95Ms')} ms)`
    : `✗ not every read answered within the ${target} ms target (slowest p95: ${detail(result, 'slowestRead')}, ${detail(result, 'slowestP95Ms')} ms)`;
  return `console (the operations console's overview and order pages) with ${formatNumber(Number(result.details.orders ?? 0))} orders in the database ` +
    `(${typeof result.details.fillSeconds === 'number' ? `filled in ${detail(result, 'fillSeconds')} s` : 'filled by an earlier scenario'}), ${detail(result, 'rounds')} rounds of its reads one at a time as the admin; ` +
    `request duration p50/p95/p99 ms: ${each}; ${verdict}.`;
}

/** A scenario's detail as text, `?` when it is missing. */
export function detail(result: ScenarioResult, key: string): string {
  const value = result.details[key];
  return typeof value === 'number' || typeof value === 'string' ? String(value) : '?';
}

/** The invoices in a sentence: how many were recorded and drawn, and what a download cost the first time (drawn then) and the next (stored). */
export function invoiceSummary(invoices: NonNullable<BenchReport['invoices']>): string {
  const { firstDownloads: first, storedDownloads: stored } = invoices;
  const recorded = `invoices (drawn on first download, decision 0014): ${formatNumber(invoices.recorded)} recorded for confirmed orders, ${formatNumber(invoices.drawn)} drawn`;
  if (first.count === 0) return `${recorded}; none downloaded (no confirmed order with an undrawn invoice).`;
  return `${recorded}; ${first.count} first downloads ${downloadLatency(first)} (drawn then); again ${downloadLatency(stored)} (stored).`;
}

function downloadLatency(downloads: InvoiceDownloads): string {
  const failed = downloads.failed > 0 ? `, ✗ ${downloads.failed} failed` : '';
  return downloads.failed === downloads.count ? `✗ all ${downloads.count} failed` : `p50 ${downloads.p50Ms} ms, p99 ${downloads.p99Ms} ms${failed}`;
}

/** A COPY ceiling's part of a sentence: the scenario's share of it, its rate, and its runs' times. */
function copyCeilingPart(result: ScenarioResult, report: BenchReport, what: string): string {
  const ceiling = report.results.find((candidate) => candidate.name === result.ratio?.ceiling);
  if (result.ratio === null || ceiling === undefined) return 'no COPY ceiling measured';
  const runs = Array.isArray(ceiling.details.runSeconds) ? (ceiling.details.runSeconds as number[]).join('/') : '?';
  return `${formatShare(result.ratio.value)} of the ${ceiling.name} (${formatNumber(ceiling.throughput)} rows/s: ${what}, the median of ${detail(ceiling, 'runs')} runs of ${runs} s)`;
}

/** V8's heap at the process's highest RSS, reserved and in use: a peak of live data, or a heap grown lazily. */
function heapAtPeak(result: ScenarioResult): string {
  const peak = result.details.memoryAtPeak as { heapTotalMb: number; heapUsedMb: number } | undefined;
  return peak === undefined ? '' : `; at its highest RSS, V8's heap ${peak.heapTotalMb} MB, ${peak.heapUsedMb} MB of it in use`;
}

/** ✓ or ✗ and the target, for the targets' list. */
function verdict(met: boolean, target: string): string {
  return `${met ? '✓' : '✗'} ${target}`;
}

/** The import in a sentence: rows per second end to end, the job's counts, the worker process's memory, its share of COPY and issue 22's targets. */
export function importSummary(result: ScenarioResult, report: BenchReport): string {
  const job = result.details.job as { counts?: { created: number; updated: number; rejected: number } } | undefined;
  const counts = job?.counts;
  const targets = result.details.targets as { rowsPerSecond: number; peakRssMb: number; copyCeilingShare: number } | undefined;
  const peak = Number(result.details.peakRssMb ?? Number.NaN);
  const checks = targets === undefined ? '' : `; issue 22's targets: ${[
    verdict(result.throughput >= targets.rowsPerSecond, `≥ ${formatNumber(targets.rowsPerSecond)} rows/s`),
    verdict(peak < targets.peakRssMb, `peak RSS < ${targets.peakRssMb} MB`),
    verdict(result.ratio !== null && result.ratio.value >= targets.copyCeilingShare, `≥ ${formatShare(targets.copyCeilingShare)} of COPY`),
  ].join(', ')}`;
  return `import: ${formatNumber(Number(result.details.rows ?? 0))} catalogue rows (${detail(result, 'fileMegabytes')} MB of CSV) uploaded as the admin and imported: ` +
    `${formatNumber(result.throughput)} rows/s end to end (${result.durationSeconds} s from sending the upload to the job's success, the upload answered in ` +
    `${detail(result, 'uploadAnsweredMs')} ms); created ${counts?.created ?? '?'}, updated ${counts?.updated ?? '?'}, rejected ${counts?.rejected ?? '?'}; ` +
    `peak RSS of the process running the import ${detail(result, 'peakRssMb')} MB (${detail(result, 'rssAtStartMb')} MB when the upload was sent${heapAtPeak(result)}); ` +
    copyCeilingPart(result, report, 'PostgreSQL\'s COPY of the same file into a scratch table of its columns, the SKU its only index') +
    `${indexedCopyPart(result, report)}${importTablesCopyPart(result, report, targets?.copyCeilingShare)}${checks}.`;
}

/**
 * The import's share of the same rows copied into tables shaped as the three it writes, when that was
 * measured, and whether the share of COPY aimed at lies above that floor.
 */
function importTablesCopyPart(result: ScenarioResult, report: BenchReport, aimedShare: number | undefined): string {
  const { ceiling, copy: tables } = ceilingCopy(result, report, 'intoImportTables');
  if (ceiling === undefined || tables === undefined) return '';
  const aimed = aimedShare === undefined ? '' : `; ${formatShare(aimedShare)} of the copy-in-ceiling is ${formatNumber(Math.round(ceiling.throughput * aimedShare))} rows/s, ` +
    `${ceiling.throughput * aimedShare > tables.rowsPerSecond ? 'more than' : 'no more than'} COPY itself writes into those tables`;
  return `; ${formatShare(result.throughput / tables.rowsPerSecond)} of the same rows copied into tables shaped as the three the import writes ` +
    `(products, stock levels and the catalog's reported stock, with their keys, indexes and checks: ${formatNumber(tables.rowsPerSecond)} rows/s, runs of ${tables.runSeconds.join('/')} s)${aimed}`;
}

/** The result's COPY ceiling, and one of the further COPY figures in its details when it was measured (a positive rate). */
function ceilingCopy(result: ScenarioResult, report: BenchReport, figure: 'withCatalogueIndexes' | 'intoImportTables') {
  const ceiling = report.results.find((candidate) => candidate.name === result.ratio?.ceiling);
  const copy = ceiling?.details[figure] as { rowsPerSecond: number; runSeconds: number[] } | undefined;
  return { ceiling, copy: copy === undefined || copy.rowsPerSecond <= 0 ? undefined : copy };
}

/** The import's share of the same COPY into a table with the catalogue's indexes, when it was measured. */
function indexedCopyPart(result: ScenarioResult, report: BenchReport): string {
  const indexed = ceilingCopy(result, report, 'withCatalogueIndexes').copy;
  if (indexed === undefined) return '';
  return `; ${formatShare(result.throughput / indexed.rowsPerSecond)} of the same COPY into a table with the products table's indexes ` +
    `(an id primary key, the SKU, created_at and id: ${formatNumber(indexed.rowsPerSecond)} rows/s, runs of ${indexed.runSeconds.join('/')} s)`;
}

/** The export in a sentence: orders per second, the downloaded file's check, the worker process's memory, its share of COPY and issue 22's target. */
export function exportSummary(result: ScenarioResult, report: BenchReport): string {
  const downloaded = result.details.download as { megabytes: number; records: number; seconds: number } | undefined;
  const targets = result.details.targets as { rowsPerSecond: number } | undefined;
  const filled = typeof result.details.fillSeconds === 'number' ? `filled in ${detail(result, 'fillSeconds')} s` : 'filled by the console scenario';
  const checks = targets === undefined ? '' : `; issue 22's target: ${verdict(result.throughput >= targets.rowsPerSecond, `≥ ${formatNumber(targets.rowsPerSecond)} rows/s`)}`;
  return `export: ${formatNumber(Number(result.details.orders ?? 0))} orders (the console's ${formatNumber(Number(result.details.filledOrders ?? 0))}, ${filled}, and the run's own) ` +
    `exported as ${detail(result, 'format')} by the admin: ${formatNumber(result.throughput)} rows/s (${result.durationSeconds} s from sending the request to the job's success); ` +
    `the file (${downloaded?.megabytes ?? '?'} MB, downloaded in ${downloaded?.seconds ?? '?'} s) holds ${formatNumber(downloaded?.records ?? 0)} records, one per order${result.details.format === 'csv' ? ' and the header' : ''}; ` +
    `peak RSS of the process running the export ${detail(result, 'peakRssMb')} MB (${detail(result, 'rssAtStartMb')} MB when the request was sent${heapAtPeak(result)}); ` +
    `${copyCeilingPart(result, report, 'PostgreSQL\'s COPY of every order to /dev/null on the server')}${checks}.`;
}
