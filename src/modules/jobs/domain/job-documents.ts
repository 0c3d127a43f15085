import type { Job } from './job.ts';
import { exportFormats, exportPartKey } from './order-export.ts';

/**
 * The keys of every document a job may have left in the documents store, which retention removes
 * before it deletes the job: an import's upload; an export's recorded parts, and the part after the
 * last recorded one, since an attempt cut between storing a part and recording it (or cancelled
 * there) leaves that one part unrecorded, and never more. An invoice job's document belongs to its
 * invoice (decision 0014), so it has none of its own.
 */
export function storedDocumentKeys(job: Pick<Job, 'id' | 'kind' | 'inputKey' | 'input'>, recordedPartKeys: readonly string[]): string[] {
  switch (job.kind) {
    case 'catalog-import':
      return job.inputKey === null ? [] : [job.inputKey];
    case 'order-export': {
      const format = exportFormats.find((candidate) => candidate === job.input?.format);
      return format === undefined ? [...recordedPartKeys] : [...recordedPartKeys, exportPartKey(job.id, recordedPartKeys.length + 1, format)];
    }
    case 'invoice':
      return [];
  }
}
