import type { Kysely } from 'kysely';
import { recordAdminAct } from '../../../../platform/audit/index.ts';
import type { AdminAct, JobSubmitter } from '../../application/ports.ts';
import type { Job } from '../../domain/job.ts';
import type { PgBossQueues } from '../pg-boss/pg-boss-queues.ts';
import type { JobsTables } from './jobs-tables.ts';
import { toJobRow } from './pg-job-repository.ts';

/** Stores a job record and its pg-boss queue entry in one transaction: neither exists without the other. */
export class PgJobSubmitter implements JobSubmitter {
  readonly #db: Kysely<JobsTables>;
  readonly #queues: PgBossQueues;

  constructor(db: Kysely<object>, queues: PgBossQueues) {
    this.#db = db.$extendTables<JobsTables>();
    this.#queues = queues;
  }

  async submit(job: Job, act?: AdminAct): Promise<void> {
    await this.#db.transaction().execute(async (transaction) => {
      await transaction.insertInto('jobs.jobs').values(toJobRow(job)).execute();
      const bossJobId = await this.#queues.send(job.kind, job, transaction);
      await transaction.updateTable('jobs.jobs').set({ boss_job_id: bossJobId }).where('id', '=', job.id).execute();
      if (act !== undefined) await recordAdminAct(transaction, 'jobs', act);
    });
  }

  async withdraw(job: Job): Promise<void> {
    const row = await this.#db.selectFrom('jobs.jobs').select('boss_job_id').where('id', '=', job.id).executeTakeFirst();
    if (row?.boss_job_id != null) await this.#queues.cancel(job.kind, row.boss_job_id);
  }
}
