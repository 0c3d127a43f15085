/** What the jobs module promises other modules: the events it emits when a job ends, keyed by job id. */

/** Event `jobs.completed`: a job finished its work (an import may have rejected some rows). */
export interface JobCompletedV1 {
  jobId: string;
  kind: string;
  /** For an invoice, the order id; otherwise null. */
  subject: string | null;
  counts: { created: number; updated: number; rejected: number };
  finishedAt: string;
}

/** Event `jobs.failed`: a job gave up after its last attempt, or was cancelled. */
export interface JobFailedV1 {
  jobId: string;
  kind: string;
  subject: string | null;
  status: 'failed' | 'cancelled';
  reason: string;
  finishedAt: string;
}

export const jobsEvents = {
  completed: { type: 'jobs.completed', version: 1 },
  failed: { type: 'jobs.failed', version: 1 },
} as const;
