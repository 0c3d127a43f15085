import { Readable } from 'node:stream';
import type * as ClientS3 from '@aws-sdk/client-s3';
import type * as LibStorage from '@aws-sdk/lib-storage';
import type { DocumentStore } from '../../application/ports.ts';
import { DocumentTooLargeError } from '../../domain/job.errors.ts';

const keyPattern = /^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/;

export interface S3DocumentStoreOptions {
  bucket: string;
  /** Folder of the bucket the documents live under (`documents/`); none by default. */
  prefix?: string;
  region: string;
  /** An S3-compatible server (MinIO, R2, …) instead of AWS. */
  endpoint?: string;
  /** `https://host/bucket/key` instead of `https://bucket.host/key`; most S3-compatible servers need it. */
  forcePathStyle?: boolean;
  /** Fixed keys; by default the SDK's provider chain (environment, profile, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** The parts of the AWS SDK the store uses, loaded when a store is built. */
interface S3Sdk {
  client: ClientS3.S3Client;
  commands: Pick<typeof ClientS3, 'DeleteObjectCommand' | 'GetObjectCommand' | 'S3ServiceException'>;
  Upload: typeof LibStorage.Upload;
}

/**
 * Documents as objects of one S3 bucket. A document is streamed in with a multipart upload (a single
 * PUT when it fits in one part) that only becomes an object once complete, so a reader never sees half
 * of one; a failed or too large upload is aborted and leaves nothing. At most four 5 MiB parts are held
 * in memory at once.
 */
export class S3DocumentStore implements DocumentStore {
  readonly #sdk: Promise<S3Sdk>;
  readonly #bucket: string;
  readonly #prefix: string;

  constructor(options: S3DocumentStoreOptions) {
    // The SDK is loaded when a store is built, so a process that keeps documents in a folder never loads it.
    this.#sdk = Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/lib-storage')]).then(([s3, storage]) => ({
      client: new s3.S3Client({
        region: options.region,
        ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
        ...(options.forcePathStyle === undefined ? {} : { forcePathStyle: options.forcePathStyle }),
        ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
      }),
      commands: s3,
      Upload: storage.Upload,
    }));
    // A failed load is reported by the first call that needs the SDK, not as an unhandled rejection.
    this.#sdk.catch(() => undefined);
    this.#bucket = options.bucket;
    this.#prefix = (options.prefix ?? '').replace(/\/+$/, '');
  }

  async put(key: string, content: AsyncIterable<Uint8Array>, limits: { maxBytes: number }): Promise<{ bytes: number }> {
    const objectKey = this.#objectKeyOf(key);
    const { client, Upload } = await this.#sdk;
    let bytes = 0;
    const limit = { exceeded: false };
    // The limit is checked before a chunk is handed on, so bytes past it never reach S3.
    async function* counted(): AsyncGenerator<Uint8Array> {
      for await (const chunk of content) {
        bytes += chunk.length;
        if (bytes > limits.maxBytes) {
          limit.exceeded = true;
          throw new DocumentTooLargeError(limits.maxBytes);
        }
        yield chunk;
      }
    }
    const body = Readable.from(counted(), { objectMode: false });
    const upload = new Upload({ client, params: { Bucket: this.#bucket, Key: objectKey, Body: body } });
    try {
      // On any failure Upload sends AbortMultipartUpload (leavePartsOnError is false) before rejecting.
      await upload.done();
    } catch (error) {
      if (limit.exceeded) throw new DocumentTooLargeError(limits.maxBytes);
      throw error;
    } finally {
      // Releases the caller's stream when the upload stopped before reading all of it.
      body.destroy();
    }
    return { bytes };
  }

  async read(key: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    const { client, commands } = await this.#sdk;
    try {
      const response = await client.send(new commands.GetObjectCommand({ Bucket: this.#bucket, Key: this.#objectKeyOf(key) }));
      if (response.Body === undefined) return Readable.from([]);
      if (response.Body instanceof Readable) return response.Body;
      throw new Error('S3 answered a body that is not a Node stream');
    } catch (error) {
      if (isMissingObject(commands, error)) return undefined;
      throw error;
    }
  }

  async remove(key: string): Promise<void> {
    const { client, commands } = await this.#sdk;
    try {
      await client.send(new commands.DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#objectKeyOf(key) }));
    } catch (error) {
      // S3 answers 204 for a missing key; some compatible servers answer 404 instead.
      if (!isMissingObject(commands, error)) throw error;
    }
  }

  #objectKeyOf(key: string): string {
    if (!keyPattern.test(key) || key.split('/').some((part) => part === '.' || part === '..')) throw new Error(`Invalid document key ${JSON.stringify(key)}`);
    return this.#prefix === '' ? key : `${this.#prefix}/${key}`;
  }
}

/** A missing key, but not a missing bucket: that is a misconfiguration and must not read as "no document". */
function isMissingObject(commands: S3Sdk['commands'], error: unknown): boolean {
  if (!(error instanceof commands.S3ServiceException)) return false;
  if (error.name === 'NoSuchKey') return true;
  return error.$metadata.httpStatusCode === 404 && error.name !== 'NoSuchBucket';
}
