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

export const rowFaultDto = z.object({
  column: z.string().nullable().describe('The column the fault is in (`sku`, `name`, `description`, `price`, `currency` or `stock`), or null when it is the row\'s as a whole: its number of columns, its quoting, or a rule of the catalogue.'),
  reason: z.string().describe('What is wrong, naming the column, e.g. "price must not be negative".'),
}).meta({ id: 'RowFault' });

export const rowErrorDto = z.object({
  line: z.int().describe('The line of the file (the header is line 1).'),
  reason: z.string().describe('Every fault of the row in one sentence: their reasons joined by "; ".'),
  faults: z.array(rowFaultDto).min(1).describe('Every fault found in the row, in the file\'s column order; the row counts once among the rejected.'),
}).meta({ id: 'RowError' });

export const jobDto = z.object({
  id: z.string(),
  kind: z.enum(jobKinds),
  status: z.enum(jobStatuses),
  progress: z.object({ done: z.int(), total: z.int().nullable() }),
  counts: z.object({ created: z.int(), updated: z.int(), rejected: z.int() }),
  errors: z.array(rowErrorDto).optional().describe('The first 1,000 rejected rows, by line, each with all its faults (only in GET /v1/jobs/{id}).'),
  errorReportUrl: z.string().nullable().describe('CSV of the rejected rows (line,reason,columns), when there are any.'),
  fileUrl: z.string().nullable().describe('The file an order export wrote (GET, streamed), once the export has succeeded; null otherwise.'),
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
    ...(rowErrors === undefined ? {} : {
      errors: rowErrors.map((error) => ({ line: error.line, reason: error.reason, faults: error.faults.map((fault) => ({ column: fault.column, reason: fault.reason })) })),
    }),
    errorReportUrl: job.counts.rejected > 0 ? `/v1/jobs/${job.id}/errors.csv` : null,
    fileUrl: job.kind === 'order-export' && job.status === 'succeeded' ? `/v1/jobs/${job.id}/file` : null,
    attempts: job.attempts, lastError: job.lastError, requestId: job.requestId, subject: job.subject,
    createdAt: job.createdAt.toISOString(), updatedAt: job.updatedAt.toISOString(),
    startedAt: job.startedAt?.toISOString() ?? null, finishedAt: job.finishedAt?.toISOString() ?? null,
  };
}

/**
 * The error report: one line per kept rejected row, as `line,reason` always was, then `columns`: the
 * columns at fault, separated by ";" (empty when every fault is the row's as a whole).
 */
export function rowErrorsCsv(rowErrors: readonly RowError[]): string {
  const quote = (text: string) => (/[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text);
  const columnsOf = (error: RowError) => [...new Set(error.faults.flatMap((fault) => (fault.column === null ? [] : [fault.column])))].join(';');
  return ['line,reason,columns', ...rowErrors.map((error) => `${error.line},${quote(error.reason)},${quote(columnsOf(error))}`)].join('\n') + '\n';
}
