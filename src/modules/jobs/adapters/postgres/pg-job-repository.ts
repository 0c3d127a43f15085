import { type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { inSharedTransaction } from '../../../../platform/database/shared-transaction.ts';
import { recordAdminAct } from '../../../../platform/audit/index.ts';
import { appendToOutbox, createEnvelope } from '../../../../platform/messaging/index.ts';
import type { AdminAct, JobCursor, JobPage, JobProgress, JobRepository } from '../../application/ports.ts';
import { jobsEvents, type JobCompletedV1, type JobFailedV1 } from '../../contract.ts';
import type { Job, JobKind, JobStatus, RowError } from '../../domain/job.ts';
import type { JobsTable, JobsTables, StoredRowFault } from './jobs-tables.ts';

type JobRow = Selectable<JobsTable>;

/** Job records in PostgreSQL; status changes are conditional updates, and an ending commits with its event. */
export class PgJobRepository implements JobRepository {
  readonly #db: Kysely<JobsTables>;
  /** The handle as given, by which an import chunk's shared transaction on the same database is recognised. */
  readonly #given: Database;

  constructor(db: Database) {
    this.#db = db.$extendTables<JobsTables>();
    this.#given = db;
  }

  async findById(id: string): Promise<Job | undefined> {
    const row = await this.#db.selectFrom('jobs.jobs').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toJob(row);
  }

  async list(query: { after?: JobCursor; limit: number }): Promise<JobPage> {
    let select = this.#db.selectFrom('jobs.jobs').selectAll();
    const after = query.after;
    if (after !== undefined) select = select.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(after.createdAt, after.id)));
    const rows = await select.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.limit + 1).execute();
    const items = rows.slice(0, query.limit).map(toJob);
    const last = items.at(-1);
    return { items, next: rows.length > query.limit && last !== undefined ? { createdAt: last.createdAt, id: last.id } : null };
  }

  async rowErrors(jobId: string): Promise<RowError[]> {
    const rows = await this.#db.selectFrom('jobs.row_errors').select(['line', 'reason', 'faults']).where('job_id', '=', jobId).orderBy('line').execute();
    return rows.map((row) => ({
      line: row.line, reason: row.reason,
      // A row rejected before faults were stored one by one had one fault, its reason, told without its column.
      faults: row.faults?.map((fault) => ({ column: fault.column, reason: fault.reason })) ?? [{ column: null, reason: row.reason }],
    }));
  }

  async startAttempt(id: string, now: Date): Promise<Job | undefined> {
    const row = await this.#db.updateTable('jobs.jobs')
      .set((eb) => ({ status: 'running', attempts: eb('attempts', '+', 1), started_at: eb.fn.coalesce('started_at', eb.val(now)), updated_at: now }))
      .where('id', '=', id).where('status', 'in', ['queued', 'running'])
      .returningAll().executeTakeFirst();
    return row === undefined ? this.findById(id) : toJob(row);
  }

  async setTotal(id: string, total: number): Promise<void> {
    await this.#db.updateTable('jobs.jobs').set({ progress_total: total }).where('id', '=', id).execute();
  }

  async saveProgress(id: string, progress: JobProgress, now: Date): Promise<boolean> {
    return inSharedTransaction(this.#given, async (shared) => {
      const transaction = shared.$extendTables<JobsTables>();
      const updated = await transaction.updateTable('jobs.jobs')
        .set({
          checkpoint: progress.checkpoint, progress_done: progress.done,
          created_count: progress.counts.created, updated_count: progress.counts.updated, rejected_count: progress.counts.rejected,
          updated_at: now,
        })
        .where('id', '=', id).where('status', '=', 'running')
        .executeTakeFirst();
      if (updated.numUpdatedRows === 0n) return false;
      if (progress.newErrors.length > 0) {
        await transaction.insertInto('jobs.row_errors')
          .values(progress.newErrors.map((error) => ({
            job_id: id, line: error.line, reason: error.reason,
            faults: JSON.stringify(error.faults.map((fault): StoredRowFault => ({ column: fault.column, reason: fault.reason }))),
          })))
          .onConflict((conflict) => conflict.doNothing())
          .execute();
      }
      return true;
    });
  }

  async finish(id: string, outcome: { status: 'succeeded' } | { status: 'failed'; reason: string }, now: Date): Promise<boolean> {
    return this.#db.transaction().execute(async (transaction) => {
      const row = await transaction.updateTable('jobs.jobs')
        .set({ status: outcome.status, finished_at: now, updated_at: now, ...(outcome.status === 'failed' ? { last_error: outcome.reason } : {}) })
        .where('id', '=', id).where('status', 'in', ['queued', 'running'])
        .returningAll().executeTakeFirst();
      if (row === undefined) return false;
      await emitEnded(transaction, toJob(row));
      return true;
    });
  }

  async recordFailedAttempt(id: string, reason: string, now: Date): Promise<void> {
    await this.#db.updateTable('jobs.jobs').set({ status: 'queued', last_error: reason, updated_at: now })
      .where('id', '=', id).where('status', '=', 'running').execute();
  }

  async cancel(id: string, now: Date, act?: AdminAct): Promise<Job | undefined> {
    return this.#db.transaction().execute(async (transaction) => {
      // An audited cancellation reads the status it ends under the row's lock.
      const before = act === undefined ? undefined : await transaction.selectFrom('jobs.jobs').select('status').where('id', '=', id).forUpdate().executeTakeFirst();
      const row = await transaction.updateTable('jobs.jobs')
        .set({ status: 'cancelled', finished_at: now, updated_at: now })
        .where('id', '=', id).where('status', 'in', ['queued', 'running'])
        .returningAll().executeTakeFirst();
      if (row === undefined) {
        const current = await transaction.selectFrom('jobs.jobs').selectAll().where('id', '=', id).executeTakeFirst();
        return current === undefined ? undefined : toJob(current);
      }
      const job = toJob(row);
      await emitEnded(transaction, job);
      if (act !== undefined) await recordAdminAct(transaction, 'jobs', { ...act, before: { status: before?.status ?? null } });
      return job;
    });
  }
}

/** Queues `jobs.completed` or `jobs.failed` for a job that just ended, in the transaction that ended it. */
export async function emitEnded(transaction: Transaction<JobsTables>, job: Job): Promise<void> {
  const finishedAt = (job.finishedAt ?? job.updatedAt).toISOString();
  if (job.status === 'succeeded') {
    const payload: JobCompletedV1 = { jobId: job.id, kind: job.kind, subject: job.subject, counts: { ...job.counts }, finishedAt };
    await appendToOutbox(transaction, [createEnvelope({ ...jobsEvents.completed, key: job.id, payload })]);
    return;
  }
  if (job.status === 'failed' || job.status === 'cancelled') {
    const payload: JobFailedV1 = {
      jobId: job.id, kind: job.kind, subject: job.subject, status: job.status,
      reason: job.status === 'cancelled' ? 'cancelled' : job.lastError ?? 'failed', finishedAt,
    };
    await appendToOutbox(transaction, [createEnvelope({ ...jobsEvents.failed, key: job.id, payload })]);
  }
}

export function toJobRow(job: Job): JobsTable {
  return {
    id: job.id, kind: job.kind, status: job.status, subject: job.subject, input_key: job.inputKey,
    input: job.input === null ? null : { ...job.input }, result_key: job.resultKey, request_id: job.requestId, boss_job_id: null,
    progress_done: job.progress.done, progress_total: job.progress.total, checkpoint: job.checkpoint,
    created_count: job.counts.created, updated_count: job.counts.updated, rejected_count: job.counts.rejected,
    attempts: job.attempts, last_error: job.lastError,
    created_at: job.createdAt, updated_at: job.updatedAt, started_at: job.startedAt, finished_at: job.finishedAt,
    documents_removed_at: null,
  };
}

export function toJob(row: JobRow): Job {
  return {
    id: row.id, kind: row.kind as JobKind, status: row.status as JobStatus, subject: row.subject,
    inputKey: row.input_key, input: row.input, resultKey: row.result_key, requestId: row.request_id,
    progress: { done: row.progress_done, total: row.progress_total },
    counts: { created: row.created_count, updated: row.updated_count, rejected: row.rejected_count },
    checkpoint: row.checkpoint, attempts: row.attempts, lastError: row.last_error,
    createdAt: row.created_at, updatedAt: row.updated_at, startedAt: row.started_at, finishedAt: row.finished_at,
  };
}
