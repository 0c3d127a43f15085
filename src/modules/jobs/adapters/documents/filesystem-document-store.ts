import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, rmdir, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { DocumentStore } from '../../application/ports.ts';
import { DocumentTooLargeError } from '../../domain/job.errors.ts';

const keyPattern = /^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/;

/**
 * Documents as files under one folder. A document is written to a temporary file and renamed into
 * place once complete, so a reader never sees half of one and a failed write leaves nothing. The
 * file is synced to disk before the rename and its folder after it, so that once `put` returns (and
 * the document is recorded as done) an OS crash cannot leave the name pointing at an empty file.
 */
export class FilesystemDocumentStore implements DocumentStore {
  readonly #root: string;

  constructor(options: { directory: string }) {
    this.#root = resolve(options.directory);
  }

  async put(key: string, content: AsyncIterable<Uint8Array>, limits: { maxBytes: number }): Promise<{ bytes: number }> {
    const path = this.#pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${crypto.randomUUID()}.partial`;
    let bytes = 0;
    const limit = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        if (bytes > limits.maxBytes) callback(new DocumentTooLargeError(limits.maxBytes));
        else callback(null, chunk);
      },
    });
    try {
      const file = await open(temporary, 'wx');
      try {
        await pipeline(content, limit, async (chunks: AsyncIterable<Buffer>) => {
          for await (const chunk of chunks) await writeAll(file, chunk);
        });
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    await syncFolder(dirname(path));
    return { bytes };
  }

  async read(key: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    const path = this.#pathOf(key);
    const found = await stat(path).then((stats) => stats.isFile(), () => false);
    return found ? createReadStream(path) : undefined;
  }

  async remove(key: string): Promise<void> {
    await rm(this.#pathOf(key), { force: true });
    // A folder of its own below the first level (an export's `exports/<job>/`) goes with its last
    // document, or finished jobs would leave a folder each behind. First-level folders (`imports/`)
    // stay, as new documents keep arriving in them: only a finished job's own folder is taken, and
    // nothing writes into that one any more. Best effort: a folder left behind is harmless.
    const folders = key.split('/').slice(0, -1);
    for (let depth = folders.length; depth >= 2; depth -= 1) {
      const removed = await rmdir(join(this.#root, ...folders.slice(0, depth))).then(() => true, () => false);
      if (!removed) break;
    }
  }

  #pathOf(key: string): string {
    if (!keyPattern.test(key) || key.split('/').some((part) => part === '.' || part === '..')) throw new Error(`Invalid document key ${JSON.stringify(key)}`);
    const path = join(this.#root, ...key.split('/'));
    if (!path.startsWith(this.#root + sep)) throw new Error(`Invalid document key ${JSON.stringify(key)}`);
    return path;
  }
}

/** Makes a folder's entries (a file just renamed into it) survive an OS crash. */
async function syncFolder(path: string): Promise<void> {
  const folder = await open(path, 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}

/** Writes all of `chunk` at the file's position: one write may take fewer bytes than it is given. */
async function writeAll(file: FileHandle, chunk: Buffer): Promise<void> {
  for (let offset = 0; offset < chunk.length;) {
    const { bytesWritten } = await file.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
}
