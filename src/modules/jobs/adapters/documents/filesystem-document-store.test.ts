import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, open, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { setImmediate } from 'node:timers/promises';
import { DocumentTooLargeError } from '../../domain/job.errors.ts';
import { FilesystemDocumentStore } from './filesystem-document-store.ts';

let directory: string;
let store: FilesystemDocumentStore;

before(async () => {
  directory = await mkdtemp(join(tmpdir(), 'orderstream-documents-'));
  store = new FilesystemDocumentStore({ directory });
});
after(async () => { await rm(directory, { recursive: true, force: true }); });

function chunksOf(...chunks: string[]): AsyncIterable<Uint8Array> {
  return Readable.from(chunks.map((chunk) => Buffer.from(chunk)));
}

/** Every `sync()` of a file handle while `action` runs, with whether `path` existed at that moment. */
async function syncsDuring(path: string, action: () => Promise<unknown>): Promise<boolean[]> {
  const probe = await open(join(directory, 'probe'), 'w');
  const prototype = Object.getPrototypeOf(probe) as { sync: () => Promise<void> };
  await probe.close();
  const original = prototype.sync;
  const seen: boolean[] = [];
  prototype.sync = function (this: unknown) {
    seen.push(existsSync(path));
    return original.call(this);
  };
  try {
    await action();
  } finally {
    prototype.sync = original;
    await rm(join(directory, 'probe'), { force: true });
  }
  return seen;
}

describe('FilesystemDocumentStore', () => {
  test('when a document is put, then its file holds every byte and no temporary file remains', async () => {
    const stored = await store.put('invoices/ord-1.pdf', chunksOf('%PDF-1.7\n', 'x'.repeat(100_000), '\n%%EOF\n'), { maxBytes: 1024 * 1024 });
    assert.equal(stored.bytes, 9 + 100_000 + 7);
    assert.equal(await readFile(join(directory, 'invoices', 'ord-1.pdf'), 'utf8'), `%PDF-1.7\n${'x'.repeat(100_000)}\n%%EOF\n`);
    assert.deepEqual(await readdir(join(directory, 'invoices')), ['ord-1.pdf']);
  });

  test('when a document is put, then its file is synced before it is renamed into place, and its folder after', async () => {
    const path = join(directory, 'invoices', 'ord-2.pdf');
    const seen = await syncsDuring(path, () => store.put('invoices/ord-2.pdf', chunksOf('%PDF-1.7\n'), { maxBytes: 1024 }));
    assert.deepEqual(seen, [false, true], 'the file is synced while not yet in place, then its folder once it is');
  });

  test('when a document is put again, then it is replaced whole', async () => {
    await store.put('imports/job-1.csv', chunksOf('first version, longer than the second\n'), { maxBytes: 1024 });
    await store.put('imports/job-1.csv', chunksOf('second\n'), { maxBytes: 1024 });
    assert.equal(await readFile(join(directory, 'imports', 'job-1.csv'), 'utf8'), 'second\n');
    assert.deepEqual(await readdir(join(directory, 'imports')), ['job-1.csv']);
  });

  test('when a document is over its limit, then it fails with DocumentTooLargeError and leaves no file, temporary or not', async () => {
    await assert.rejects(store.put('imports/job-2.csv', chunksOf('a'.repeat(600), 'b'.repeat(600)), { maxBytes: 1000 }), DocumentTooLargeError);
    assert.ok(!(await readdir(join(directory, 'imports'))).some((name) => name.startsWith('job-2.csv')));
    assert.equal(await store.read('imports/job-2.csv'), undefined);
  });

  test('when a document is removed, then its file is gone, and removing it again, or one never stored, succeeds', async () => {
    await store.put('imports/job-4.csv', chunksOf('sku,name\n'), { maxBytes: 1024 });
    await store.remove('imports/job-4.csv');
    assert.equal(await store.read('imports/job-4.csv'), undefined);
    assert.ok(!existsSync(join(directory, 'imports', 'job-4.csv')));
    await store.remove('imports/job-4.csv');
    await store.remove('imports/never-stored.csv');
    await store.remove('exports/never-stored/part-000001.csv');
    assert.ok(existsSync(join(directory, 'imports')), 'a first-level folder stays for the documents still to come');
  });

  test('when the last document of a folder below the first level is removed, then the folder goes with it', async () => {
    await store.put('exports/job-5/part-000001.csv', chunksOf('a\n'), { maxBytes: 1024 });
    await store.put('exports/job-5/part-000002.csv', chunksOf('b\n'), { maxBytes: 1024 });
    await store.remove('exports/job-5/part-000001.csv');
    assert.deepEqual(await readdir(join(directory, 'exports', 'job-5')), ['part-000002.csv'], 'a folder with documents left stays');
    await store.remove('exports/job-5/part-000002.csv');
    assert.ok(!existsSync(join(directory, 'exports', 'job-5')));
    assert.ok(existsSync(join(directory, 'exports')));
  });

  test('when its content fails part-way, then the error is passed on and no file remains', async () => {
    async function* failing(): AsyncIterable<Uint8Array> {
      yield Buffer.from('half of it');
      await setImmediate();
      throw new Error('the client left');
    }
    await assert.rejects(store.put('imports/job-3.csv', failing(), { maxBytes: 1000 }), /the client left/);
    assert.ok(!(await readdir(join(directory, 'imports'))).some((name) => name.startsWith('job-3.csv')));
  });
});
