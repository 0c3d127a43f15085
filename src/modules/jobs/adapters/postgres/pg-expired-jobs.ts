import { sql } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import type { ExpiredJobDocuments, ExpiredJobs } from '../../application/ports.ts';
import { storedDocumentKeys } from '../../domain/job-documents.ts';
import { jobKinds, type JobKind } from '../../domain/job.ts';
import { finishedJob } from './job-retention.ts';

/**
 * Finished imports and exports past their retention (`finishedJob`) whose documents are not yet
 * removed (`documents_removed_at`, migration 008), found by the partial index of those. Invoice jobs
 * are left out: their document is their invoice's (decision 0014), and `oldJobs` does not wait for them.
 */
export class PgExpiredJobs implements ExpiredJobs {
  readonly #db: Database;
  readonly #seconds: number;

  /** `seconds`: how long a finished job is kept (JOB_RETENTION_DAYS). */
  constructor(db: Database, seconds: number) {
    this.#db = db;
    this.#seconds = seconds;
  }

  async withDocuments(query: { limit: number; except: readonly string[] }): Promise<ExpiredJobDocuments[]> {
    const result = await sql<{ id: string; kind: string; input_key: string | null; input: Record<string, unknown> | null; part_keys: string[] }>`
      select j.id, j.kind, j.input_key, j.input,
        array(select p.document_key from jobs.export_parts p where p.job_id = j.id order by p.part) as part_keys
      from jobs.jobs j
      where j.finished_at is not null and j.documents_removed_at is null and j.kind <> 'invoice'
        and ${finishedJob('j', this.#seconds)}
        and j.id <> all(${[...query.except]}::text[])
      order by j.finished_at, j.id
      limit ${query.limit}`.execute(this.#db);
    return result.rows.map((row) => ({
      jobId: row.id,
      documentKeys: storedDocumentKeys({ id: row.id, kind: kindOf(row.kind), inputKey: row.input_key, input: row.input }, row.part_keys),
    }));
  }

  async markDocumentsRemoved(jobIds: readonly string[], now: Date): Promise<void> {
    await sql`update jobs.jobs set documents_removed_at = ${now} where id = any(${[...jobIds]}::text[]) and documents_removed_at is null`.execute(this.#db);
  }
}

function kindOf(kind: string): JobKind {
  const known = jobKinds.find((candidate) => candidate === kind);
  if (known === undefined) throw new Error(`Unknown job kind ${JSON.stringify(kind)}`);
  return known;
}
