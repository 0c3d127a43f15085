import { z } from 'zod';
import type { Job, RowError } from '../../domain/job.ts';
import { jobKinds, jobStatuses } from '../../domain/job.ts';

export const jobIdParams = z.object({ id: z.string().min(1).max(100) });
export const orderIdParams = z.object({ id: z.string().min(1).max(100) });

export const jobAcceptedDto = z.object({
  id: z.string(),
  status: z.literal('queued'),
  statusUrl: z.string(),
}).meta({ id: 'JobAccepted' });

export const jobDto = z.object({
  id: z.string(),
  kind: z.enum(jobKinds),
  status: z.enum(jobStatuses),
  progress: z.object({ done: z.int(), total: z.int().nullable() }),
  counts: z.object({ created: z.int(), updated: z.int(), rejected: z.int() }),
  errors: z.array(z.object({ line: z.int(), reason: z.string() })).optional().describe('The first 1,000 rejected rows (only in GET /v1/jobs/{id}).'),
  errorReportUrl: z.string().nullable().describe('CSV of the rejected rows, when there are any.'),
  attempts: z.int(),
  lastError: z.string().nullable(),
  requestId: z.string().nullable(),
  subject: z.string().nullable(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  startedAt: z.iso.datetime().nullable(),
  finishedAt: z.iso.datetime().nullable(),
}).meta({ id: 'Job' });

export const jobPageDto = z.object({ items: z.array(jobDto), nextCursor: z.string().nullable() }).meta({ id: 'JobPage' });

export const listJobsQuery = z.strictObject({
  cursor: z.string().min(1).max(500).optional().describe('The nextCursor of the previous page.'),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export type JobDto = z.infer<typeof jobDto>;

/** Domain → DTO; the only place the wire shape of a job is decided. */
export function toJobDto(job: Job, rowErrors?: readonly RowError[]): JobDto {
  return {
    id: job.id, kind: job.kind, status: job.status,
    progress: { done: job.progress.done, total: job.progress.total },
    counts: { ...job.counts },
    ...(rowErrors === undefined ? {} : { errors: rowErrors.map((error) => ({ line: error.line, reason: error.reason })) }),
    errorReportUrl: job.counts.rejected > 0 ? `/v1/jobs/${job.id}/errors.csv` : null,
    attempts: job.attempts, lastError: job.lastError, requestId: job.requestId, subject: job.subject,
    createdAt: job.createdAt.toISOString(), updatedAt: job.updatedAt.toISOString(),
    startedAt: job.startedAt?.toISOString() ?? null, finishedAt: job.finishedAt?.toISOString() ?? null,
  };
}

/** The error report: one line per kept rejected row. */
export function rowErrorsCsv(rowErrors: readonly RowError[]): string {
  const quote = (text: string) => (/[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text);
  return ['line,reason', ...rowErrors.map((error) => `${error.line},${quote(error.reason)}`)].join('\n') + '\n';
}
