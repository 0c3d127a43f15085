import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InMemoryDocumentStore } from '../testing/in-memory-document-store.ts';
import type { DocumentStore, ExpiredJobDocuments, ExpiredJobs } from './ports.ts';
import { RemoveExpiredDocuments } from './remove-expired-documents.ts';

/** Expired jobs in memory, oldest first; a marked job is no longer offered, as its row is about to go. */
class InMemoryExpiredJobs implements ExpiredJobs {
  readonly jobs: ExpiredJobDocuments[];
  readonly marked: string[] = [];
  readonly asked: { limit: number; except: readonly string[] }[] = [];

  constructor(jobs: ExpiredJobDocuments[]) {
    this.jobs = jobs;
  }

  withDocuments(query: { limit: number; except: readonly string[] }): Promise<ExpiredJobDocuments[]> {
    this.asked.push(query);
    return Promise.resolve(this.jobs.filter((job) => !this.marked.includes(job.jobId) && !query.except.includes(job.jobId)).slice(0, query.limit));
  }

  markDocumentsRemoved(jobIds: readonly string[]): Promise<void> {
    this.marked.push(...jobIds);
    return Promise.resolve();
  }
}

/** `count` imports, each with its upload stored in `documents`. */
function importsOf(count: number, documents: InMemoryDocumentStore): ExpiredJobDocuments[] {
  return Array.from({ length: count }, (_, index) => {
    const documentKey = `imports/job_${index + 1}.csv`;
    documents.with(documentKey, 'sku,name\n');
    return { jobId: `job_${index + 1}`, documentKeys: [documentKey] };
  });
}

/** A store whose removals never answer, counting how many were asked. */
function silentStore(): DocumentStore & { removals: number } {
  const store = new InMemoryDocumentStore();
  return {
    removals: 0,
    put: (key, content, limits) => store.put(key, content, limits),
    read: (key) => store.read(key),
    remove() {
      this.removals += 1;
      return new Promise<void>(() => { /* never settles */ });
    },
  };
}

describe('RemoveExpiredDocuments', () => {
  test('when jobs have documents and some none, then every document is removed and every job marked, one with none without a store call', async () => {
    const documents = new InMemoryDocumentStore();
    const expired = new InMemoryExpiredJobs([
      ...importsOf(2, documents),
      { jobId: 'export_1', documentKeys: ['exports/export_1/part-000001.csv', 'exports/export_1/part-000002.csv'] },
      { jobId: 'import_without_upload', documentKeys: [] },
    ]);
    documents.with('exports/export_1/part-000001.csv', 'a').with('exports/export_1/part-000002.csv', 'b');

    const report = await new RemoveExpiredDocuments({ expired, documents }).execute();

    assert.deepEqual(report, { jobs: 4, documents: 4, failures: [] });
    assert.equal(documents.documents.size, 0);
    assert.deepEqual(expired.marked, ['job_1', 'job_2', 'export_1', 'import_without_upload']);
  });

  test('when more jobs are expired than a pass takes, then it stops after its batches and the next pass goes on', async () => {
    const documents = new InMemoryDocumentStore();
    const expired = new InMemoryExpiredJobs(importsOf(7, documents));
    const removeExpired = new RemoveExpiredDocuments({ expired, documents, limits: { batchSize: 2, maxBatches: 2 } });

    assert.deepEqual(await removeExpired.execute(), { jobs: 4, documents: 4, failures: [] });
    assert.deepEqual(await removeExpired.execute(), { jobs: 3, documents: 3, failures: [] }, 'two batches: two jobs, then the last one');
    assert.equal(documents.documents.size, 0);
  });

  test('when every removal of a batch fails, then the pass ends there and marks nothing', async () => {
    const documents = new InMemoryDocumentStore();
    const expired = new InMemoryExpiredJobs(importsOf(5, documents));
    const broken: DocumentStore = { put: documents.put.bind(documents), read: documents.read.bind(documents), remove: () => Promise.reject(new Error('the bucket refuses')) };

    const report = await new RemoveExpiredDocuments({ expired, documents: broken, limits: { batchSize: 2 } }).execute();

    assert.deepEqual(report.failures.map((failure) => failure.jobId), ['job_1', 'job_2']);
    assert.equal(report.jobs, 0);
    assert.deepEqual(expired.marked, []);
    assert.equal(expired.asked.length, 1, 'no second batch against a store that fails everything');
  });

  test('when a job has several documents and one fails, then its others are not tried in that pass and it is not marked', async () => {
    const documents = new InMemoryDocumentStore();
    const keys = ['exports/job_1/part-000001.csv', 'exports/job_1/part-000002.csv', 'exports/job_1/part-000003.csv'];
    for (const key of keys) documents.with(key, 'x');
    const tried: string[] = [];
    const store: DocumentStore = {
      put: documents.put.bind(documents), read: documents.read.bind(documents),
      remove: async (key) => { tried.push(key); if (key === keys[0]) throw new Error('busy'); await documents.remove(key); },
    };
    const expired = new InMemoryExpiredJobs([{ jobId: 'job_1', documentKeys: keys }]);

    const report = await new RemoveExpiredDocuments({ expired, documents: store, limits: { concurrency: 1 } }).execute();

    assert.deepEqual(tried, [keys[0]]);
    assert.deepEqual({ jobs: report.jobs, failed: report.failures.map((failure) => failure.documentKey) }, { jobs: 0, failed: [keys[0]] });
    assert.deepEqual(expired.marked, []);
  });

  test('when the store does not answer, then the pass ends once a removal times out, leaving its jobs for later', async () => {
    const store = silentStore();
    const expired = new InMemoryExpiredJobs(importsOf(20, new InMemoryDocumentStore()));
    const started = Date.now();

    const report = await new RemoveExpiredDocuments({ expired, documents: store, limits: { concurrency: 3, removeTimeoutMs: 50 } }).execute();

    assert.ok(Date.now() - started < 2000, 'one timeout, not one per document');
    assert.equal(store.removals, 3, 'only the removals already in flight were asked');
    assert.equal(report.jobs, 0);
    assert.equal(report.failures.length, 3);
    assert.match(String(report.failures[0]?.error), /took longer than 50 ms/);
    assert.deepEqual(expired.marked, []);
  });

  test('when the pass is stopped, then it ends at once without waiting for the removals in flight', async () => {
    const store = silentStore();
    const expired = new InMemoryExpiredJobs(importsOf(4, new InMemoryDocumentStore()));
    const stopping = new AbortController();

    const pass = new RemoveExpiredDocuments({ expired, documents: store, limits: { concurrency: 2, removeTimeoutMs: 60_000 } }).execute({ signal: stopping.signal });
    await new Promise((resolve) => { setTimeout(resolve, 20); });
    stopping.abort();
    const report = await pass;

    assert.deepEqual(report, { jobs: 0, documents: 0, failures: [] });
    assert.equal(store.removals, 2);
    assert.deepEqual(expired.marked, []);
  });
});
