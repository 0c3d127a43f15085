import { noErrors, type ScenarioResult } from './bench-result.ts';
import { consoleOrders, fillConsoleOrdersOnce } from './console-scenario.ts';
import { measureCopyOut } from './copy-ceiling.ts';
import { followJob, perSecond, RecordCounter, type FollowedJob, type JobView, type MemoryBreakdown } from './document-jobs.ts';
import { copyCeilingResult, jobFigures } from './import-scenario.ts';
import { probeOf } from './orderstream-probe.ts';
import type { ResourceUsage } from './resource-sampler.ts';
import { sampled, settle, type ScenarioContext } from './scenario-context.ts';
import { round } from './statistics.ts';

/** Issue 22's target for the export: orders per second from the request to the job's success. */
export const exportTargets = { rowsPerSecond: 20_000 } as const;
/** The format exported: CSV, whose header line the download's count checks too. */
const exportFormat = 'csv';

/** The exported file as the harness downloaded it. */
export interface ExportDownload {
  status: number;
  contentType: string;
  bytes: number;
  /** Records in the file, the CSV header among them. */
  records: number;
  seconds: number;
}

/** One export as the harness timed it, on `performance.now()`'s clock. */
export interface TimedExport {
  format: 'csv' | 'jsonl';
  sentAt: number;
  answeredAt: number;
  followed: FollowedJob;
  /** Where the request's answer said the file will be. */
  fileUrl: string;
  /** OrderStream's process's memory (as it sees it) just before the request was sent and at its highest RSS until the job succeeded. */
  memory: { atStart: MemoryBreakdown; atPeak: MemoryBreakdown };
  /** Seconds the console's orders took to fill, or null when an earlier scenario of the run filled them. */
  fillSeconds: number | null;
}

/**
 * Issue 22's export: every order in the database (the console's 100,000, filled unless the console
 * scenario already did, and the run's own) exported as CSV by the admin through the edge
 * (`POST /v1/exports/orders`), its job followed until it succeeded; orders per second from sending
 * the request to the job's success, and the peak RSS of the process running the export's worker (the
 * single shape's one OrderStream process, the harness apart). The file is then downloaded
 * (`GET /v1/jobs/{id}/file`) and must hold a record per exported order plus the header. Then
 * PostgreSQL's COPY of every order to `/dev/null` on the server, three times, the median its
 * ceiling (copy-out-ceiling). Not run in the services shape.
 */
export async function exportScenario(context: ScenarioContext): Promise<ScenarioResult[]> {
  const { target, log } = context;
  if (target.shape === 'services') {
    context.warn('export: not run in the services shape (its target is the single process\'s; there the export spans the jobs and orders processes)');
    return [];
  }
  await settle(context, 'export');
  const fillSeconds = await fillConsoleOrdersOnce(context, 'export', new Date());
  log(`export: exporting every order as ${exportFormat} as the admin and following the job`);
  const memory = await probeOf(target).watchMemory();
  const { value: timed, resources } = await sampled(context, async (): Promise<TimedExport> => {
    const sentAt = performance.now();
    const accepted = await requestExport(target.baseUrl, target.adminToken);
    const answeredAt = performance.now();
    const followed = await followJob({ scenario: 'export', baseUrl: target.baseUrl, token: target.adminToken, statusUrl: accepted.statusUrl });
    return { format: exportFormat, sentAt, answeredAt, followed, fileUrl: accepted.fileUrl, memory: { atStart: memory.atStart, atPeak: await memory.stop() }, fillSeconds };
  }).finally(() => memory.stop().catch(() => undefined));
  log(`export: downloading ${timed.fileUrl}`);
  const downloaded = await download(target.baseUrl, target.adminToken, timed.fileUrl, timed.format);
  const problem = exportFileProblem(timed.format, timed.followed.job, downloaded);
  if (problem !== undefined) throw new Error(`export: ${problem}`);
  await settle(context, 'copy-out-ceiling');
  log('copy-out-ceiling: PostgreSQL\'s COPY of every order to /dev/null, three times');
  const copy = await sampled(context, () => measureCopyOut(target.ceilingDatabaseUrl), 'harness');
  if (copy.value.rows !== timed.followed.job.progress.done) {
    context.warn(`export: the job exported ${timed.followed.job.progress.done} orders, the database's COPY found ${copy.value.rows}`);
  }
  return [copyCeilingResult('copy-out-ceiling', copy.value, copy.resources), exportResult(timed, downloaded, resources)];
}

/** Asks for an export; answers its job's and its file's URLs. */
async function requestExport(baseUrl: string, token: string): Promise<{ statusUrl: string; fileUrl: string }> {
  const response = await fetch(`${baseUrl}/v1/exports/orders`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ format: exportFormat }),
  });
  const body = await response.text();
  if (response.status !== 202) throw new Error(`export: POST /v1/exports/orders answered ${response.status}: ${body.slice(0, 300)}`);
  return JSON.parse(body) as { statusUrl: string; fileUrl: string };
}

/** Downloads the exported file as it streams, counting its records and bytes without keeping it. */
async function download(baseUrl: string, token: string, fileUrl: string, format: 'csv' | 'jsonl'): Promise<ExportDownload> {
  const startedAt = performance.now();
  const response = await fetch(`${baseUrl}${fileUrl}`, { headers: { authorization: `Bearer ${token}` } });
  const counter = new RecordCounter(format);
  let bytes = 0;
  if (response.status === 200 && response.body !== null) {
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      counter.add(chunk);
      bytes += chunk.byteLength;
    }
  } else {
    await response.arrayBuffer();
  }
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', bytes, records: counter.records, seconds: (performance.now() - startedAt) / 1000 };
}

/** What is wrong with the downloaded file, if anything: not answered 200, or not one record per exported order (plus the CSV header). */
export function exportFileProblem(format: 'csv' | 'jsonl', job: JobView, downloaded: ExportDownload): string | undefined {
  if (downloaded.status !== 200) return `GET /v1/jobs/${job.id}/file answered ${downloaded.status}`;
  const expected = job.progress.done + (format === 'csv' ? 1 : 0);
  if (downloaded.records === expected) return undefined;
  return `the file holds ${downloaded.records} records, the job exported ${job.progress.done} orders${format === 'csv' ? ' (plus a header line expected)' : ''}`;
}

/**
 * The export's row: orders per second from the request to the job's success, the download, and the
 * memory of OrderStream's process, which runs the worker: `memoryAtStart`/`memoryAtPeak` as the
 * process's own `process.memoryUsage()` split it (sampled there every 250 ms, through the probe),
 * `peakRssMb` the higher of that peak and the resource sampler's (every 500 ms, from outside).
 */
export function exportResult(timed: TimedExport, downloaded: ExportDownload, resources: ResourceUsage): ScenarioResult {
  const { job, endedAt } = timed.followed;
  const seconds = (endedAt - timed.sentAt) / 1000;
  const orders = job.progress.done;
  return {
    name: 'export', kind: 'scenario', metric: 'rows/s', throughput: round(perSecond(orders, seconds)), latencyMs: null, ratio: null, databaseLoad: null,
    errors: noErrors(), durationSeconds: round(seconds), warmUpSeconds: 0, connections: 1, resources,
    details: {
      format: timed.format, orders, filledOrders: consoleOrders, fillSeconds: timed.fillSeconds,
      measuredAs: 'from sending POST /v1/exports/orders to the job read as succeeded (polled every 100 ms)',
      requestAnsweredMs: round(timed.answeredAt - timed.sentAt), job: jobFigures(job), polls: timed.followed.polls,
      download: { megabytes: megabytes(downloaded.bytes), records: downloaded.records, seconds: round(downloaded.seconds), contentType: downloaded.contentType },
      rssAtStartMb: timed.memory.atStart.rssMb, peakRssMb: Math.max(resources.app.peakRssMb, timed.memory.atPeak.rssMb), memoryAtStart: timed.memory.atStart, memoryAtPeak: timed.memory.atPeak, rssOf: 'OrderStream\'s process, which runs the export\'s worker (the harness is another process)',
      targets: exportTargets,
    },
  };
}

function megabytes(bytes: number): number {
  return Math.round(bytes / 1024 / 102.4) / 10;
}
