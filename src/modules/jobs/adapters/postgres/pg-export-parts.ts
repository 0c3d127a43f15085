import { sql, type Kysely } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import type { ExportPart, ExportParts } from '../../application/ports.ts';
import type { JobsTables } from './jobs-tables.ts';

/** Export parts in `jobs.export_parts` (migration 007). */
export class PgExportParts implements ExportParts {
  readonly #db: Kysely<JobsTables>;

  constructor(db: Database) {
    this.#db = db.$extendTables<JobsTables>();
  }

  async list(jobId: string): Promise<ExportPart[]> {
    const rows = await this.#db.selectFrom('jobs.export_parts').selectAll().where('job_id', '=', jobId).orderBy('part').execute();
    return rows.map((row) => ({
      part: row.part, documentKey: row.document_key, orders: row.orders, bytes: Number(row.bytes),
      next: row.next_placed_at === null || row.next_order_id === null ? null : { placedAt: row.next_placed_at, orderId: row.next_order_id },
    }));
  }

  async record(jobId: string, part: ExportPart, done: number, now: Date): Promise<boolean> {
    // One statement, so the part and the progress it brings commit together, and only while the job runs.
    const result = await sql<{ running: boolean }>`
      with job as (
        update jobs.jobs set checkpoint = ${part.part}, progress_done = ${done}, updated_at = ${now}
        where id = ${jobId} and status = 'running' returning id
      ), recorded as (
        insert into jobs.export_parts (job_id, part, document_key, orders, bytes, next_placed_at, next_order_id)
        select id, ${part.part}, ${part.documentKey}, ${part.orders}, ${part.bytes}, ${part.next?.placedAt ?? null}, ${part.next?.orderId ?? null} from job
        on conflict (job_id, part) do nothing
      )
      select exists (select 1 from job) as running`.execute(this.#db);
    return result.rows[0]?.running === true;
  }
}
