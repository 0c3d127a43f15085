import { ExportNotReadyError, JobNotFoundError } from '../domain/job.errors.ts';
import { exportPreamble, exportRequestOf, type ExportFormat } from '../domain/order-export.ts';
import type { DocumentStore, ExportParts, JobRepository } from './ports.ts';

/**
 * The file of an export that succeeded: its preamble (the CSV header) and then each part's document
 * in order, streamed, never held whole. Another kind of job has no file (not found); an export not
 * yet succeeded has none yet.
 */
export class GetExportFile {
  readonly #jobs: JobRepository;
  readonly #parts: ExportParts;
  readonly #documents: DocumentStore;

  constructor(deps: { jobs: JobRepository; parts: ExportParts; documents: DocumentStore }) {
    this.#jobs = deps.jobs;
    this.#parts = deps.parts;
    this.#documents = deps.documents;
  }

  async execute(jobId: string): Promise<{ format: ExportFormat; bytes: number; content: AsyncIterable<Uint8Array> }> {
    const job = await this.#jobs.findById(jobId);
    if (job?.kind !== 'order-export') throw new JobNotFoundError(jobId);
    if (job.status !== 'succeeded') throw new ExportNotReadyError(jobId, job.status);
    const { format } = exportRequestOf(job);
    const parts = await this.#parts.list(jobId);
    const preamble = new TextEncoder().encode(exportPreamble(format));
    const documents = this.#documents;
    async function* content(): AsyncIterable<Uint8Array> {
      if (preamble.length > 0) yield preamble;
      for (const part of parts) {
        const document = await documents.read(part.documentKey);
        if (document === undefined) throw new Error(`part ${part.part} of export ${jobId} is missing from the document store`);
        yield* document;
      }
    }
    return { format, bytes: preamble.length + parts.reduce((sum, part) => sum + part.bytes, 0), content: content() };
  }
}
