import type { Client } from 'openapi-fetch';
import { unwrap } from './errors.ts';
import type { components, paths } from './openapi-types.ts';
import { items } from './pages.ts';
import { pollUntil, type WaitOptions } from './polling.ts';

export type Job = components['schemas']['Job'];
export type JobAccepted = components['schemas']['JobAccepted'];

/** The statuses a job never leaves. */
export const terminalJobStatuses: readonly Job['status'][] = ['succeeded', 'failed', 'cancelled'];

/**
 * Uploads a catalogue CSV (`sku,name,description,price,currency,stock`) to be imported in the
 * background; answers the queued job. Not retried: an upload has no idempotency key.
 */
export async function importCatalog(api: Client<paths>, csv: Blob | string, fileName = 'products.csv'): Promise<JobAccepted> {
  const form = new FormData();
  form.append('file', typeof csv === 'string' ? new Blob([csv], { type: 'text/csv' }) : csv, fileName);
  // The route reads multipart/form-data itself, so the document declares no body for it.
  return unwrap(api.POST('/v1/imports', { body: form as never, bodySerializer: (body: unknown) => body as FormData }));
}

export async function getJob(api: Client<paths>, id: string): Promise<Job> {
  return unwrap(api.GET('/v1/jobs/{id}', { params: { path: { id } } }));
}

/** Jobs, newest first, every page. */
export function listJobs(api: Client<paths>, options: { limit?: number } = {}): AsyncGenerator<Job, void, undefined> {
  return items((cursor) => unwrap(api.GET('/v1/jobs', { params: { query: { ...(cursor === undefined ? {} : { cursor }), ...options } } })));
}

/** Reads the job until it has succeeded, failed or been cancelled. */
export async function waitForJob(api: Client<paths>, id: string, options: WaitOptions = {}): Promise<Job> {
  return pollUntil(() => getJob(api, id), (job) => terminalJobStatuses.includes(job.status), `job ${id} did not end`, options);
}
