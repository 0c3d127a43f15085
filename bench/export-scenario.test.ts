import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BenchReport, ScenarioResult } from './bench-result.ts';
import { compareWithCeilings } from './ceiling-ratios.ts';
import type { JobView } from './document-jobs.ts';
import { exportFileProblem, exportResult, type ExportDownload, type TimedExport } from './export-scenario.ts';
import { copyCeilingResult } from './import-scenario.ts';
import { exportSummary } from './report-summaries.ts';
import type { ResourceUsage } from './resource-sampler.ts';

const memory = (rssMb: number, heapTotalMb: number) => ({ rssMb, heapTotalMb, heapUsedMb: heapTotalMb / 2, externalMb: 20, arrayBuffersMb: 4 });
const resources = (peakRssMb: number): ResourceUsage => ({ app: { cpuSeconds: 3, peakRssMb }, processes: null, loadGenerator: null, postgres: null });
const exported: JobView = { id: 'job_9', status: 'succeeded', progress: { done: 100_250, total: 100_250 }, counts: { created: 0, updated: 0, rejected: 0 }, attempts: 1, lastError: null };
const downloaded: ExportDownload = { status: 200, contentType: 'text/csv; charset=utf-8', bytes: 20_971_520, records: 100_251, seconds: 1.234 };

function timedExport(overrides: Partial<TimedExport> = {}): TimedExport {
  // Sent at 2 s, answered at 2.02 s, read as succeeded at 6.01 s on the harness's clock.
  return { format: 'csv', sentAt: 2000, answeredAt: 2020, followed: { job: exported, endedAt: 6010, polls: 40 }, fileUrl: '/v1/jobs/job_9/file', memory: { atStart: memory(250, 120), atPeak: memory(265, 130) }, fillSeconds: null, ...overrides };
}

test('when the exported file is checked, then it must be answered 200 and hold one record per exported order, plus the header for CSV', () => {
  assert.equal(exportFileProblem('csv', exported, downloaded), undefined);
  assert.equal(exportFileProblem('jsonl', exported, { ...downloaded, records: 100_250 }), undefined);
  assert.equal(exportFileProblem('csv', exported, { ...downloaded, records: 100_250 }),
    'the file holds 100250 records, the job exported 100250 orders (plus a header line expected)');
  assert.equal(exportFileProblem('jsonl', exported, downloaded), 'the file holds 100251 records, the job exported 100250 orders');
  assert.equal(exportFileProblem('csv', exported, { ...downloaded, status: 409 }), 'GET /v1/jobs/job_9/file answered 409');
});

test('when an export is timed, then its rate is the orders exported over the time from sending the request to the job read as succeeded', () => {
  const result = exportResult(timedExport(), downloaded, resources(265.3));

  assert.equal(result.throughput, 25_000);
  assert.equal(result.durationSeconds, 4.01);
  assert.equal(result.details.requestAnsweredMs, 20);
  assert.deepEqual(result.details.download, { megabytes: 20, records: 100_251, seconds: 1.23, contentType: 'text/csv; charset=utf-8' });
});

test('when the export is reported, then its sentence gives the rate, the file\'s check, the memory, its share of COPY and the target met or not', () => {
  const result = exportResult(timedExport({ fillSeconds: 18.2 }), downloaded, resources(265.3));
  const copy = copyCeilingResult('copy-out-ceiling', { rows: 100_250, runSeconds: [0.5, 0.5, 0.6], rowsPerSecond: 200_500, statement: 'copy …' }, resources(250));
  const results: ScenarioResult[] = [copy, result];
  compareWithCeilings(results);
  const report = { results, settings: { shape: 'single' } } as unknown as BenchReport; // the summaries read only these

  assert.equal(exportSummary(result, report),
    'export: 100,250 orders (the console\'s 100,000, filled in 18.2 s, and the run\'s own) exported as csv by the admin: 25,000 rows/s (4.01 s from sending the request to the job\'s success); ' +
    'the file (20 MB, downloaded in 1.23 s) holds 100,251 records, one per order and the header; peak RSS of the process running the export 265.3 MB (250 MB when the request was sent; at its highest RSS, V8\'s heap 130 MB, 65 MB of it in use); ' +
    '12.5% of the copy-out-ceiling (200,500 rows/s: PostgreSQL\'s COPY of every order to /dev/null on the server, the median of 3 runs of 0.5/0.5/0.6 s); issue 22\'s target: ✓ ≥ 20,000 rows/s.');
  const slow = exportResult(timedExport({ followed: { job: exported, endedAt: 12_025, polls: 100 } }), downloaded, resources(265.3));
  assert.match(exportSummary(slow, { results: [slow] } as unknown as BenchReport), /filled by the console scenario.*10,000 rows\/s.*no COPY ceiling measured; issue 22's target: ✗ ≥ 20,000 rows\/s\.$/);
});
