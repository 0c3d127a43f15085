import { Readable } from 'node:stream';
import type { DocumentStore } from '../application/ports.ts';
import { DocumentTooLargeError } from '../domain/job.errors.ts';

/** Documents in memory, for use-case tests. */
export class InMemoryDocumentStore implements DocumentStore {
  readonly documents = new Map<string, Uint8Array>();

  /** Stores a document directly, for arranging a test. */
  with(key: string, text: string | Uint8Array): this {
    this.documents.set(key, typeof text === 'string' ? new TextEncoder().encode(text) : text);
    return this;
  }

  async put(key: string, content: AsyncIterable<Uint8Array>, limits: { maxBytes: number }): Promise<{ bytes: number }> {
    const chunks: Uint8Array[] = [];
    let bytes = 0;
    for await (const chunk of content) {
      bytes += chunk.length;
      if (bytes > limits.maxBytes) throw new DocumentTooLargeError(limits.maxBytes);
      chunks.push(chunk);
    }
    this.documents.set(key, Buffer.concat(chunks));
    return { bytes };
  }

  read(key: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    const document = this.documents.get(key);
    if (document === undefined) return Promise.resolve(undefined);
    // Small chunks, so records cross chunk boundaries as they do when streaming a file.
    const chunks: Uint8Array[] = [];
    for (let offset = 0; offset < document.length; offset += 64) chunks.push(document.subarray(offset, offset + 64));
    return Promise.resolve(Readable.from(chunks));
  }

  remove(key: string): Promise<void> {
    this.documents.delete(key);
    return Promise.resolve();
  }
}
