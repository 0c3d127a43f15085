import { openAsBlob } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { noErrors, type ScenarioResult } from './bench-result.ts';
import { measureCopyIn, type CopyMeasurement } from './copy-ceiling.ts';
import { followJob, perSecond, type FollowedJob, type JobView, type MemoryBreakdown } from './document-jobs.ts';
import { writeImportFile } from './import-file.ts';
import { probeOf } from './orderstream-probe.ts';
import type { ResourceUsage } from './resource-sampler.ts';
import { sampled, settle, type ScenarioContext } from './scenario-context.ts';
import { round } from './statistics.ts';

/** Rows of the import's file (issue 22's figure), about 100 bytes each. */
export const importRows = 100_000;
/** Issue 22's targets for the import: rows per second end to end, the peak RSS of the process importing, the share of COPY. */
export const importTargets = { rowsPerSecond: 10_000, peakRssMb: 300, copyCeilingShare: 0.25 } as const;

/** One import as the harness timed it, on `performance.now()`'s clock. */
export interface TimedImport {
  rows: number;
  bytes: number;
  sentAt: number;
  answeredAt: number;
  followed: FollowedJob;
  /** OrderStream's process's memory (as it sees it) just before the upload was sent and at its highest RSS until the job succeeded. */
  memory: { atStart: MemoryBreakdown; atPeak: MemoryBreakdown };
}

/**
 * Issue 22's import: a catalogue file of `importRows` rows written to a temporary folder, uploaded as
 * the admin through the edge (`POST /v1/imports`, multipart, streamed from the disk) and its job
 * followed (`GET /v1/jobs/{id}` every 100 ms) until it succeeded; rows per second from sending the
 * upload to the job's success, and the peak RSS of the process running the import's worker (the
 * single shape's one OrderStream process, the harness apart). Then PostgreSQL's COPY of the same
 * file into a scratch table of its columns, three times, the median its ceiling (copy-in-ceiling),
 * and into one with the products table's indexes as well (see `measureCopyIn`). The services shape is not measured: its import runs across the jobs, catalog
 * and inventory processes, and issue 22's figures are the single process's.
 */
export async function importScenario(context: ScenarioContext): Promise<ScenarioResult[]> {
  const { target, log } = context;
  if (target.shape === 'services') {
    context.warn('import: not run in the services shape (its targets are the single process\'s; there the import spans the jobs, catalog and inventory processes)');
    return [];
  }
  await settle(context, 'import');
  const folder = await mkdtemp(path.join('/var/tmp', 'orderstream-bench-import-'));
  try {
    // The database server reads the same file for its COPY: as root, the embedded server runs as `postgres`.
    await chmod(folder, 0o755);
    const file = path.join(folder, 'products.csv');
    const bytes = await writeImportFile(file, importRows, 'IMPORT');
    await chmod(file, 0o644);
    log(`import: uploading ${importRows.toLocaleString('en-US')} rows (${megabytes(bytes)} MB) as the admin and following the job`);
    const memory = await probeOf(target).watchMemory();
    const { value: timed, resources } = await sampled(context, async (): Promise<TimedImport> => {
      const sentAt = performance.now();
      const statusUrl = await upload(target.baseUrl, target.adminToken, file);
      const answeredAt = performance.now();
      const followed = await followJob({ scenario: 'import', baseUrl: target.baseUrl, token: target.adminToken, statusUrl });
      return { rows: importRows, bytes, sentAt, answeredAt, followed, memory: { atStart: memory.atStart, atPeak: await memory.stop() } };
    }).finally(() => memory.stop().catch(() => undefined));
    const imported = importResult(timed, resources);
    const { created, updated, rejected } = timed.followed.job.counts;
    if (created + updated !== importRows || rejected > 0) context.warn(`import: ${importRows} valid rows gave ${created} created, ${updated} updated and ${rejected} rejected`);
    await settle(context, 'copy-in-ceiling');
    log('copy-in-ceiling: PostgreSQL\'s COPY of the same file into a scratch table, three times');
    const copy = await sampled(context, () => measureCopyIn(target.ceilingDatabaseUrl, file), 'harness');
    return [copyCeilingResult('copy-in-ceiling', copy.value, copy.resources), imported];
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

/** Sends the file as `multipart/form-data` (part `file`, `text/csv`), read from the disk as it goes; answers the job's status URL. */
async function upload(baseUrl: string, token: string, file: string): Promise<string> {
  const form = new FormData();
  form.set('file', await openAsBlob(file, { type: 'text/csv' }), 'products.csv');
  const response = await fetch(`${baseUrl}/v1/imports`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  const body = await response.text();
  if (response.status !== 202) throw new Error(`import: POST /v1/imports answered ${response.status}: ${body.slice(0, 300)}`);
  return (JSON.parse(body) as { statusUrl: string }).statusUrl;
}

/**
 * The import's row: rows per second from sending the upload to the job's success, its counts and
 * the memory of OrderStream's process, which runs the worker: `memoryAtStart`/`memoryAtPeak` as
 * the process's own `process.memoryUsage()` split it (sampled there every 250 ms, through the
 * probe), `peakRssMb` the higher of that peak and the resource sampler's (every 500 ms, from outside).
 */
export function importResult(timed: TimedImport, resources: ResourceUsage): ScenarioResult {
  const { job, endedAt } = timed.followed;
  const seconds = (endedAt - timed.sentAt) / 1000;
  return {
    name: 'import', kind: 'scenario', metric: 'rows/s', throughput: round(perSecond(timed.rows, seconds)), latencyMs: null, ratio: null, databaseLoad: null,
    errors: noErrors(), durationSeconds: round(seconds), warmUpSeconds: 0, connections: 1, resources,
    details: {
      rows: timed.rows, fileMegabytes: megabytes(timed.bytes), measuredAs: 'from sending the upload to the job read as succeeded (polled every 100 ms)',
      uploadAnsweredMs: round(timed.answeredAt - timed.sentAt), rowsPerSecondFromAnswer: round(perSecond(timed.rows, (endedAt - timed.answeredAt) / 1000)),
      job: jobFigures(job), polls: timed.followed.polls,
      rssAtStartMb: timed.memory.atStart.rssMb, peakRssMb: Math.max(resources.app.peakRssMb, timed.memory.atPeak.rssMb), memoryAtStart: timed.memory.atStart, memoryAtPeak: timed.memory.atPeak, rssOf: 'OrderStream\'s process, which runs the import\'s worker (the harness is another process)',
      targets: importTargets,
    },
  };
}

/** A COPY ceiling's row: the median run's rows per second, every run's time in the details. */
export function copyCeilingResult(name: 'copy-in-ceiling' | 'copy-out-ceiling', copy: CopyMeasurement, resources: ResourceUsage): ScenarioResult {
  const totalSeconds = copy.runSeconds.reduce((sum, seconds) => sum + seconds, 0);
  return {
    name, kind: 'ceiling', metric: 'rows/s', throughput: round(copy.rowsPerSecond), latencyMs: null, ratio: null, databaseLoad: null,
    errors: noErrors(), durationSeconds: round(totalSeconds), warmUpSeconds: 0, connections: 1, resources,
    details: {
      rows: copy.rows, runs: copy.runSeconds.length, runSeconds: copy.runSeconds.map(secondsOf), statement: copy.statement,
      ...(copy.withCatalogueIndexes === undefined ? {} : { withCatalogueIndexes: copyFigures(copy.withCatalogueIndexes) }),
      ...(copy.intoImportTables === undefined ? {} : { intoImportTables: copyFigures(copy.intoImportTables) }),
    },
  };
}

function copyFigures(copy: Omit<CopyMeasurement, 'withCatalogueIndexes' | 'intoImportTables'>) {
  return { rowsPerSecond: round(copy.rowsPerSecond), runSeconds: copy.runSeconds.map(secondsOf), statement: copy.statement };
}

function secondsOf(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}

/** What the report keeps of a finished job. */
export function jobFigures(job: JobView) {
  return { id: job.id, status: job.status, done: job.progress.done, total: job.progress.total, counts: job.counts, attempts: job.attempts };
}

function megabytes(bytes: number): number {
  return Math.round(bytes / 1024 / 102.4) / 10;
}
