import { checkImportHeader } from '../domain/import-row.ts';
import { newJob, type Job } from '../domain/job.ts';
import type { CsvReader, DocumentStore, JobSubmitter } from './ports.ts';

/**
 * Stores an uploaded CSV (streamed, within its size limit), checks its header and queues an import
 * job for it. A file that cannot be imported leaves nothing behind: no document, no job.
 */
export class StartImport {
  readonly #documents: DocumentStore;
  readonly #csv: CsvReader;
  readonly #jobs: JobSubmitter;
  readonly #maxBytes: number;
  readonly #newId: () => string;
  readonly #now: () => Date;

  constructor(deps: { documents: DocumentStore; csv: CsvReader; jobs: JobSubmitter; maxBytes: number; newId?: () => string; now?: () => Date }) {
    this.#documents = deps.documents;
    this.#csv = deps.csv;
    this.#jobs = deps.jobs;
    this.#maxBytes = deps.maxBytes;
    this.#newId = deps.newId ?? (() => `job_${crypto.randomUUID()}`);
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(input: { content: AsyncIterable<Uint8Array>; requestId: string | null }): Promise<Job> {
    const id = this.#newId();
    const inputKey = `imports/${id}.csv`;
    const stored = await this.#documents.put(inputKey, input.content, { maxBytes: this.#maxBytes });
    try {
      checkImportHeader(await this.#header(inputKey));
      const job = newJob({ id, kind: 'catalog-import', requestId: input.requestId, inputKey, now: this.#now() });
      await this.#jobs.submit(job, { action: 'jobs.import-started', targetId: job.id, after: { kind: job.kind, inputKey, bytes: stored.bytes } });
      return job;
    } catch (error) {
      await this.#documents.remove(inputKey);
      throw error;
    }
  }

  async #header(key: string): Promise<string[] | undefined> {
    for await (const record of this.#csv.records(key)) {
      return 'values' in record ? record.values : [];
    }
    return undefined;
  }
}
