import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createWriteStream } from 'node:fs';
import type { DocumentStore } from '../../application/ports.ts';
import { DocumentTooLargeError } from '../../domain/job.errors.ts';

const keyPattern = /^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/;

/**
 * Documents as files under one folder. A document is written to a temporary file and renamed into
 * place once complete, so a reader never sees half of one and a failed write leaves nothing.
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
      await pipeline(content, limit, createWriteStream(temporary, { flags: 'wx' }));
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    return { bytes };
  }

  async read(key: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    const path = this.#pathOf(key);
    const found = await stat(path).then((stats) => stats.isFile(), () => false);
    return found ? createReadStream(path) : undefined;
  }

  async remove(key: string): Promise<void> {
    await rm(this.#pathOf(key), { force: true });
  }

  #pathOf(key: string): string {
    if (!keyPattern.test(key) || key.split('/').some((part) => part === '.' || part === '..')) throw new Error(`Invalid document key ${JSON.stringify(key)}`);
    const path = join(this.#root, ...key.split('/'));
    if (!path.startsWith(this.#root + sep)) throw new Error(`Invalid document key ${JSON.stringify(key)}`);
    return path;
  }
}
