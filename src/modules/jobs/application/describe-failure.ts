import type { JobRepository } from './ports.ts';

/**
 * A failure as a short line kept on the job; never a stack trace. A NUL a message may quote from the
 * file is written as `\0`: PostgreSQL would refuse to store the line, and the job would stay running.
 */
export function describeFailure(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.replaceAll('\u0000', '\\0').slice(0, 1000);
}

/**
 * Records that an attempt failed with `error`: the job fails for good on its last attempt, else it is
 * queued again with the reason (pg-boss retries it).
 */
export async function recordAttemptFailure(jobs: JobRepository, jobId: string, error: unknown, attempt: { lastAttempt: boolean; now: Date }): Promise<void> {
  const reason = describeFailure(error);
  if (attempt.lastAttempt) await jobs.finish(jobId, { status: 'failed', reason }, attempt.now);
  else await jobs.recordFailedAttempt(jobId, reason, attempt.now);
}
