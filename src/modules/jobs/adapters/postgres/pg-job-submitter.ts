import type { Kysely } from 'kysely';
import type { JobSubmitter } from '../../application/ports.ts';
import type { Job } from '../../domain/job.ts';
import type { PgBossQueues } from '../pg-boss/pg-boss-queues.ts';
import type { JobsTables } from './jobs-tables.ts';
import { toJobRow } from './pg-job-repository.ts';

/**
 * Stores a job record and its pg-boss queue entry in one transaction: the caller's (a consumer's
 * inbox transaction) when it is given one, else its own. Neither exists without the other.
 */
export class PgJobSubmitter implements JobSubmitter {
  readonly #db: Kysely<JobsTables>;
  readonly #queues: PgBossQueues;
  readonly #inTransaction: boolean;

  constructor(db: Kysely<object>, queues: PgBossQueues) {
    // A consumer hands over its inbox transaction: jobs then join it rather than commit on their own.
    this.#inTransaction = db.isTransaction;
    this.#db = db.$extendTables<JobsTables>();
    this.#queues = queues;
  }

  async submit(job: Job): Promise<boolean> {
    const work = async (transaction: Kysely<JobsTables>): Promise<boolean> => {
      const inserted = await transaction.insertInto('jobs.jobs').values(toJobRow(job))
        .onConflict((conflict) => conflict.column('subject').where('kind', '=', 'invoice').doNothing())
        .returning('id').executeTakeFirst();
      if (inserted === undefined) return false;
      const bossJobId = await this.#queues.send(job.kind, job, transaction);
      await transaction.updateTable('jobs.jobs').set({ boss_job_id: bossJobId }).where('id', '=', job.id).execute();
      return true;
    };
    return this.#inTransaction ? work(this.#db) : this.#db.transaction().execute(work);
  }

  async withdraw(job: Job): Promise<void> {
    const row = await this.#db.selectFrom('jobs.jobs').select('boss_job_id').where('id', '=', job.id).executeTakeFirst();
    if (row?.boss_job_id != null) await this.#queues.cancel(job.kind, row.boss_job_id);
  }
}
