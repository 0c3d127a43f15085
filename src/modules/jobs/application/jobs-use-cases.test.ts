import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { beforeEach, describe, test } from 'node:test';
import { CsvParseReader } from '../adapters/csv/csv-parse-reader.ts';
import { InvalidImportFileError, JobNotCancellableError, DocumentTooLargeError } from '../domain/job.errors.ts';
import { newJob } from '../domain/job.ts';
import { InMemoryDocumentStore } from '../testing/in-memory-document-store.ts';
import { InMemoryCatalogAndStock, InMemoryJobs } from '../testing/in-memory-jobs.ts';
import { CancelJob } from './cancel-job.ts';
import { ListJobs } from './list-jobs.ts';
import { RunImport } from './run-import.ts';
import { StartImport } from './start-import.ts';

let documents: InMemoryDocumentStore;
let jobs: InMemoryJobs;
let shelf: InMemoryCatalogAndStock;
let clock: number;
const now = () => new Date(Date.UTC(2026, 0, 1) + (clock += 1000));

beforeEach(() => {
  documents = new InMemoryDocumentStore();
  jobs = new InMemoryJobs();
  shelf = new InMemoryCatalogAndStock();
  clock = 0;
});

const header = 'sku,name,description,price,currency,stock\n';
const rows = (count: number, from = 1) => Array.from({ length: count }, (_, index) => `SKU-${from + index},Product ${from + index},,${100 + index},EUR,${index}\n`).join('');

function bytes(text: string): AsyncIterable<Uint8Array> {
  return Readable.from([Buffer.from(text)]);
}

function startImport(maxBytes = 1024 * 1024) {
  return new StartImport({ documents, csv: new CsvParseReader({ documents }), jobs, maxBytes, now });
}

function runImport(chunkSize = 4) {
  return new RunImport({ jobs, csv: new CsvParseReader({ documents }), catalog: shelf, stock: shelf, chunkSize, now });
}

describe('StartImport', () => {
  test('when the file has the right header, then it is stored and a queued job is submitted', async () => {
    const job = await startImport().execute({ content: bytes(header + rows(2)), requestId: 'req-1' });
    assert.equal(job.status, 'queued');
    assert.equal(job.requestId, 'req-1');
    assert.deepEqual(jobs.queued, [job.id]);
    assert.ok(job.inputKey !== null && documents.documents.has(job.inputKey));
  });

  test('when the header is wrong, the file empty or too large, then nothing is stored and nothing queued', async () => {
    await assert.rejects(startImport().execute({ content: bytes('a,b,c\n1,2,3\n'), requestId: null }), InvalidImportFileError);
    await assert.rejects(startImport().execute({ content: bytes(''), requestId: null }), InvalidImportFileError);
    await assert.rejects(startImport(10).execute({ content: bytes(header), requestId: null }), DocumentTooLargeError);
    assert.equal(documents.documents.size, 0);
    assert.equal(jobs.queued.length, 0);
  });
});

describe('RunImport', () => {
  test('when every row is valid, then products and stock are set, progress reaches the total and the job succeeds', async () => {
    const job = await startImport().execute({ content: bytes(header + rows(10)), requestId: null });
    await runImport().execute(job.id, { lastAttempt: false });
    const done = jobs.jobs.get(job.id);
    assert.equal(done?.status, 'succeeded');
    assert.deepEqual(done.progress, { done: 10, total: 10 });
    assert.deepEqual(done.counts, { created: 10, updated: 0, rejected: 0 });
    assert.equal(shelf.products.get('SKU-10')?.price.amount, 109);
    assert.equal(shelf.stock.get('SKU-10'), 9);
  });

  test('when rows break rules or repeat a SKU, then the job succeeds and each bad row is reported once by its line, with all its faults', async () => {
    const file = header + [
      'A-1,Good,,100,EUR,1', // line 2
      'A-2,Negative,,-100,EUR,1', // line 3
      'A-3,Unknown currency,,100,XYZ,1', // line 4
      'A-1,Duplicate,,100,EUR,1', // line 5
      'A-4,,,100,EUR,1', // line 6
      'A-5,Too few,100,EUR', // line 7
      'A-6,"Bad "quote",,100,EUR,1', // line 8
      'A-7,Good too,,200,USD,2', // line 9
      'a-1,,,-1,EUR,1', // line 10
    ].join('\n') + '\n';
    const job = await startImport().execute({ content: bytes(file), requestId: null });
    await runImport().execute(job.id, { lastAttempt: false });
    assert.equal(jobs.jobs.get(job.id)?.status, 'succeeded');
    assert.deepEqual(jobs.jobs.get(job.id)?.counts, { created: 2, updated: 0, rejected: 7 }, 'a row with three faults is one rejected row');
    // The broken quote on line 8 throws the count of line ends off; the rows read set the total at the end.
    assert.deepEqual(jobs.jobs.get(job.id)?.progress, { done: 9, total: 9 });
    const errors = await jobs.rowErrors(job.id);
    assert.deepEqual(errors.map((error) => error.line), [3, 4, 5, 6, 7, 8, 10]);
    assert.match(errors[2]?.reason ?? '', /duplicate SKU A-1 \(first on line 2\)/);
    assert.deepEqual(errors[5]?.faults.map((fault) => fault.column), [null], 'an unreadable record is a fault of the row as a whole');
    assert.match(errors[5].faults[0]?.reason ?? '', /^cannot be read/);
    assert.deepEqual(errors[6]?.faults.map((fault) => fault.column), ['sku', 'name', 'price']);
    assert.match(errors[6].faults[0]?.reason ?? '', /duplicate SKU A-1 \(first on line 2\)/);
    assert.deepEqual([...shelf.products.keys()].sort(), ['A-1', 'A-7']);
    assert.equal(shelf.products.get('A-1')?.name, 'Good');
  });

  test('when the worker dies between checkpoints and a new attempt runs, then the result equals a clean import and no row is reported twice', async () => {
    const file = header + rows(10) + 'SKU-3,Duplicate,,1,EUR,1\n' + rows(9, 11) + 'BAD,,,1,EUR,1\n';
    const job = await startImport().execute({ content: bytes(file), requestId: null });
    shelf.failAfter = 10;
    await assert.rejects(runImport(4).execute(job.id, { lastAttempt: false }), /simulated crash/);
    const crashed = jobs.jobs.get(job.id);
    assert.equal(crashed?.status, 'queued');
    assert.equal(crashed.checkpoint, 8, 'only the two full chunks before the crash are committed');
    const upsertsBefore = shelf.upserts;

    shelf.failAfter = Number.POSITIVE_INFINITY;
    await runImport(4).execute(job.id, { lastAttempt: true });

    const clean = new InMemoryCatalogAndStock();
    const cleanDocuments = new InMemoryDocumentStore();
    const cleanJobs = new InMemoryJobs();
    const cleanJob = await new StartImport({ documents: cleanDocuments, csv: new CsvParseReader({ documents: cleanDocuments }), jobs: cleanJobs, maxBytes: 1e6 })
      .execute({ content: bytes(file), requestId: null });
    await new RunImport({ jobs: cleanJobs, csv: new CsvParseReader({ documents: cleanDocuments }), catalog: clean, stock: clean, chunkSize: 4 })
      .execute(cleanJob.id, { lastAttempt: false });

    const resumed = jobs.jobs.get(job.id);
    assert.equal(resumed?.status, 'succeeded');
    assert.equal(resumed.attempts, 2);
    assert.deepEqual(shelf.products, clean.products);
    assert.deepEqual(shelf.stock, clean.stock);
    assert.equal(shelf.upserts - upsertsBefore, 21 - 2 - 8, 'the second attempt applies only the rows after the checkpoint');
    assert.deepEqual((await jobs.rowErrors(job.id)).map((error) => error.line), [12, 22]);
    assert.equal(resumed.counts.rejected, 2);
    assert.equal(resumed.counts.created + resumed.counts.updated, 19);
  });

  test('when the worker dies in a chunk, then a new attempt applies it and counts it as a clean import does', async () => {
    const file = header + rows(10) + 'SKU-3,Duplicate,,1,EUR,1\n' + rows(9, 11);
    const job = await startImport().execute({ content: bytes(file), requestId: null });
    shelf.products.set('SKU-9', { name: 'Old', description: '', price: { amount: 1, currency: 'EUR' } });
    shelf.failAfter = 10;
    await assert.rejects(runImport(4).execute(job.id, { lastAttempt: false }), /simulated crash/);
    assert.equal(jobs.jobs.get(job.id)?.checkpoint, 8, 'the chunk of rows 9 to 12 is neither applied nor committed');

    shelf.failAfter = Number.POSITIVE_INFINITY;
    await runImport(4).execute(job.id, { lastAttempt: true });
    assert.deepEqual(jobs.jobs.get(job.id)?.counts, { created: 18, updated: 1, rejected: 1 });
  });

  test('when the checkpoint write fails after its chunk was applied (another service), then a new attempt counts the chunk as its first application did', async () => {
    const job = await startImport().execute({ content: bytes(header + rows(12)), requestId: null });
    shelf.products.set('SKU-6', { name: 'Old', description: '', price: { amount: 1, currency: 'EUR' } });
    const saveProgress = jobs.saveProgress.bind(jobs);
    let saves = 0;
    jobs.saveProgress = (id, progress, at) => (++saves === 2 ? Promise.reject(new Error('simulated crash: the commit was lost')) : saveProgress(id, progress, at));
    await assert.rejects(runImport(4).execute(job.id, { lastAttempt: false }), /simulated crash/);
    assert.equal(jobs.jobs.get(job.id)?.checkpoint, 4);
    assert.ok(shelf.products.has('SKU-8'), 'the second chunk was applied');

    await runImport(4).execute(job.id, { lastAttempt: true });
    assert.equal(jobs.jobs.get(job.id)?.status, 'succeeded');
    assert.deepEqual(jobs.jobs.get(job.id)?.counts, { created: 11, updated: 1, rejected: 0 });
  });

  test('when the last attempt fails, then the job is failed with the reason', async () => {
    const job = await startImport().execute({ content: bytes(header + rows(3)), requestId: null });
    shelf.failAfter = 0;
    await assert.rejects(runImport().execute(job.id, { lastAttempt: true }));
    assert.equal(jobs.jobs.get(job.id)?.status, 'failed');
    assert.match(jobs.jobs.get(job.id)?.lastError ?? '', /simulated crash/);
  });

  test('when the job is cancelled while it runs, then it stops at the next checkpoint and stays cancelled', async () => {
    const job = await startImport().execute({ content: bytes(header + rows(12)), requestId: null });
    let chunks = 0;
    const cancelling = {
      upsertAll: async (key: string, chunkRows: Parameters<InMemoryCatalogAndStock['upsertAll']>[1]) => {
        if (++chunks === 2) await jobs.cancel(job.id, now());
        return shelf.upsertAll(key, chunkRows);
      },
    };
    await new RunImport({ jobs, csv: new CsvParseReader({ documents }), catalog: cancelling, stock: shelf, chunkSize: 4, now }).execute(job.id, { lastAttempt: false });
    assert.equal(jobs.jobs.get(job.id)?.status, 'cancelled');
    assert.equal(jobs.jobs.get(job.id)?.checkpoint, 4);
    assert.equal(shelf.upserts, 8, 'the chunk in flight lands, none after it');
  });

  test('when a chunk has one bad row among good ones, then the good rows land and the bad one is reported with its line', async () => {
    const file = header + 'G-1,Good,,100,EUR,1\nG-2,Good,,100,EUR,2\nG-3,,,-5,EUR,3\nG-4,Good,,100,EUR,4\n';
    const job = await startImport().execute({ content: bytes(file), requestId: null });
    await runImport(10).execute(job.id, { lastAttempt: false });
    assert.deepEqual(jobs.jobs.get(job.id)?.counts, { created: 3, updated: 0, rejected: 1 });
    assert.deepEqual([...shelf.products.keys()].sort(), ['G-1', 'G-2', 'G-4']);
    assert.deepEqual([...shelf.stock.entries()].sort(), [['G-1', 1], ['G-2', 2], ['G-4', 4]]);
    assert.deepEqual((await jobs.rowErrors(job.id)).map((error) => error.line), [4]);
  });

  test('when the catalog or inventory rejects a row of a chunk, then only that row is reported, with its line and their reason', async () => {
    const job = await startImport().execute({ content: bytes(header + rows(3)), requestId: null });
    const picky = {
      upsertAll: async (key: string, chunkRows: Parameters<InMemoryCatalogAndStock['upsertAll']>[1]) => {
        const outcomes = await shelf.upsertAll(key, chunkRows);
        return outcomes.map((outcome, position) => (chunkRows[position]?.sku === 'SKU-2' ? { rejected: 'name breaks a rule' } : outcome));
      },
    };
    const stingy = { setAll: async (key: string, levels: readonly { sku: string; onHand: number }[]) => {
      const outcomes = await shelf.setAll(key, levels);
      return outcomes.map((outcome, position) => (levels[position]?.sku === 'SKU-3' ? { rejected: 'orders have 9 units reserved' } : outcome));
    } };
    await new RunImport({ jobs, csv: new CsvParseReader({ documents }), catalog: picky, stock: stingy, chunkSize: 10, now }).execute(job.id, { lastAttempt: false });
    assert.deepEqual(jobs.jobs.get(job.id)?.counts, { created: 1, updated: 0, rejected: 2 });
    const errors = await jobs.rowErrors(job.id);
    assert.deepEqual(errors.map((error) => [error.line, error.faults[0]?.column, error.faults[0]?.reason]), [
      [3, null, 'name breaks a rule'],
      [4, 'stock', 'the product was saved but its stock was not: orders have 9 units reserved'],
    ]);
  });
});

describe('CancelJob and ListJobs', () => {
  test('when a queued job is cancelled, then it is cancelled and withdrawn from its queue; a second cancel is refused', async () => {
    const job = newJob({ id: 'job-1', kind: 'catalog-import', requestId: null, inputKey: 'imports/x.csv', now: now() });
    await jobs.submit(job);
    const cancelled = await new CancelJob({ jobs, queue: jobs, now }).execute('job-1');
    assert.equal(cancelled.status, 'cancelled');
    assert.deepEqual(jobs.withdrawn, ['job-1']);
    await assert.rejects(new CancelJob({ jobs, queue: jobs, now }).execute('job-1'), JobNotCancellableError);
  });

  test('when pages are followed, then every job is listed once, newest first', async () => {
    for (let index = 0; index < 5; index += 1) await jobs.submit(newJob({ id: `job-${index}`, kind: 'catalog-import', requestId: null, now: now() }));
    const seen: string[] = [];
    let after;
    do {
      const page = await new ListJobs({ jobs }).execute({ limit: 2, ...(after === undefined ? {} : { after }) });
      seen.push(...page.items.map((job) => job.id));
      after = page.next ?? undefined;
    } while (after !== undefined);
    assert.deepEqual(seen, ['job-4', 'job-3', 'job-2', 'job-1', 'job-0']);
  });
});
