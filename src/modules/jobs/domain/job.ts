/**
 * The kinds of job records. Imports and order exports run as jobs, each kind on its own queue;
 * `invoice` names the records of invoices drawn by jobs before invoices were drawn on download
 * (decision 0014).
 */
export const jobKinds = ['catalog-import', 'invoice', 'order-export'] as const;
export type JobKind = (typeof jobKinds)[number];

export const jobStatuses = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof jobStatuses)[number];

/** At most this many row errors are kept per job; the rejected count still counts them all. */
export const maxKeptRowErrors = 1000;

/**
 * One thing wrong with a row of an import: the column it is in (one of the file's column names), or
 * null when it is the row's as a whole (its number of columns, its quoting, a rule of the catalogue).
 * The reason reads on its own, naming its column.
 */
export interface RowFault {
  readonly column: string | null;
  readonly reason: string;
}

/**
 * One rejected row of an import, by its line in the file (the header is line 1), with every fault
 * found in it; `reason` is all of them in one sentence, so a row with one fault reads as it always has.
 */
export interface RowError {
  readonly line: number;
  readonly reason: string;
  readonly faults: readonly RowFault[];
}

/** A rejected row with its faults (at least one), in the order given: the file's column order. */
export function rowError(line: number, faults: readonly RowFault[]): RowError {
  return { line, reason: faults.map((fault) => fault.reason).join('; '), faults };
}

export interface JobCounts {
  readonly created: number;
  readonly updated: number;
  readonly rejected: number;
}

/**
 * A unit of long-running work and what is known of its progress. `checkpoint` is the number of
 * data records fully handled; it moves only together with the counts and errors of those records.
 */
export interface Job {
  readonly id: string;
  readonly kind: JobKind;
  readonly status: JobStatus;
  /** What the job is about beyond its input, e.g. the order id of an invoice. */
  readonly subject: string | null;
  /** Document the job reads (an uploaded file). */
  readonly inputKey: string | null;
  /** Structured input (an invoice's order). */
  readonly input: Readonly<Record<string, unknown>> | null;
  /** Document the job produced (an invoice PDF). */
  readonly resultKey: string | null;
  /** The request that caused the job, so its logs share one id from HTTP call to every attempt. */
  readonly requestId: string | null;
  readonly progress: { readonly done: number; readonly total: number | null };
  readonly counts: JobCounts;
  readonly checkpoint: number;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
}

/** A job as it is submitted: queued, nothing done yet. */
export function newJob(input: {
  id: string;
  kind: JobKind;
  requestId: string | null;
  subject?: string;
  inputKey?: string;
  input?: Readonly<Record<string, unknown>>;
  now: Date;
}): Job {
  return {
    id: input.id, kind: input.kind, status: 'queued',
    subject: input.subject ?? null, inputKey: input.inputKey ?? null, input: input.input ?? null, resultKey: null,
    requestId: input.requestId,
    progress: { done: 0, total: null }, counts: { created: 0, updated: 0, rejected: 0 }, checkpoint: 0,
    attempts: 0, lastError: null,
    createdAt: input.now, updatedAt: input.now, startedAt: null, finishedAt: null,
  };
}

/** Succeeded, failed and cancelled jobs never change again. */
export function isFinished(status: JobStatus): boolean {
  return status === 'succeeded' || status === 'failed' || status === 'cancelled';
}

/** The counts after a batch of rows, added to those before it. */
export function addCounts(a: JobCounts, b: JobCounts): JobCounts {
  return { created: a.created + b.created, updated: a.updated + b.updated, rejected: a.rejected + b.rejected };
}
