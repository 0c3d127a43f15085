import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, beforeEach, describe, test } from 'node:test';
import { DocumentTooLargeError } from '../../domain/job.errors.ts';
import { S3DocumentStore } from './s3-document-store.ts';

/** One request as the fake S3 saw it. */
interface RecordedRequest {
  method: string;
  /** Decoded path: `/bucket/key`. */
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  bodyBytes: number;
}

/**
 * Just enough of S3 (path-style) for the adapter: PutObject, the multipart calls, GetObject and
 * DeleteObject, over objects kept in memory. It checks no signatures; it records every request.
 */
class FakeS3 {
  readonly objects = new Map<string, Buffer>();
  readonly requests: RecordedRequest[] = [];
  readonly #uploads = new Map<string, { path: string; parts: Map<number, Buffer> }>();
  readonly #server: Server = createServer((request, response) => { void this.#handle(request, response); });
  #nextUploadId = 1;

  async start(): Promise<string> {
    await new Promise<void>((resolve) => { this.#server.listen(0, '127.0.0.1', resolve); });
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => { this.#server.close(() => { resolve(); }); });
  }

  get openUploads(): number {
    return this.#uploads.size;
  }

  reset(): void {
    this.objects.clear();
    this.requests.length = 0;
    this.#uploads.clear();
    this.#nextUploadId = 1;
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(request.url ?? '/', 'http://fake');
    const path = decodeURIComponent(url.pathname);
    const query = Object.fromEntries(url.searchParams);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if ((name === 'content-length' || name === 'authorization' || name.startsWith('x-amz-')) && typeof value === 'string') headers[name] = value;
    }
    this.requests.push({ method: request.method ?? '', path, query, headers, bodyBytes: body.length });

    const method = request.method;
    const uploadId = url.searchParams.get('uploadId');
    if (method === 'POST' && url.searchParams.has('uploads')) {
      const id = `upload-${this.#nextUploadId++}`;
      this.#uploads.set(id, { path, parts: new Map() });
      this.#xml(response, 200, `<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>${id}</UploadId></InitiateMultipartUploadResult>`);
    } else if (method === 'PUT' && uploadId !== null) {
      const upload = this.#uploads.get(uploadId);
      if (upload === undefined) { this.#xml(response, 404, error('NoSuchUpload')); return; }
      upload.parts.set(Number(url.searchParams.get('partNumber')), body);
      response.writeHead(200, { etag: `"part-${url.searchParams.get('partNumber') ?? ''}"` }).end();
    } else if (method === 'POST' && uploadId !== null) {
      const upload = this.#uploads.get(uploadId);
      if (upload === undefined) { this.#xml(response, 404, error('NoSuchUpload')); return; }
      const numbers = [...upload.parts.keys()].sort((a, b) => a - b);
      this.objects.set(path, Buffer.concat(numbers.map((number) => upload.parts.get(number)!)));
      this.#uploads.delete(uploadId);
      this.#xml(response, 200, '<CompleteMultipartUploadResult><ETag>"whole"</ETag></CompleteMultipartUploadResult>');
    } else if (method === 'DELETE' && uploadId !== null) {
      this.#uploads.delete(uploadId);
      response.writeHead(204).end();
    } else if (method === 'PUT') {
      this.objects.set(path, body);
      response.writeHead(200, { etag: '"single"' }).end();
    } else if (method === 'GET') {
      const object = this.objects.get(path);
      if (object === undefined) { this.#xml(response, 404, error('NoSuchKey')); return; }
      response.writeHead(200, { 'content-length': object.length, 'content-type': 'application/octet-stream' }).end(object);
    } else if (method === 'DELETE') {
      this.objects.delete(path);
      response.writeHead(204).end();
    } else {
      this.#xml(response, 405, error('MethodNotAllowed'));
    }
  }

  #xml(response: ServerResponse, status: number, xml: string): void {
    response.writeHead(status, { 'content-type': 'application/xml' }).end(`<?xml version="1.0" encoding="UTF-8"?>\n${xml}`);
  }
}

function error(code: string): string {
  return `<Error><Code>${code}</Code><Message>${code}</Message><RequestId>fake</RequestId></Error>`;
}

/** `totalBytes` of content in `chunkBytes` chunks, as a request body would arrive. */
function chunksOf(totalBytes: number, chunkBytes = 64 * 1024): AsyncIterable<Uint8Array> {
  return Readable.from(function* () {
    for (let sent = 0; sent < totalBytes; sent += chunkBytes) {
      yield Buffer.alloc(Math.min(chunkBytes, totalBytes - sent), sent % 251);
    }
  }());
}

async function bytesOf(content: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of content) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const mebibyte = 1024 * 1024;

describe('S3DocumentStore', () => {
  const s3 = new FakeS3();
  let store: S3DocumentStore;

  before(async () => {
    const endpoint = await s3.start();
    store = new S3DocumentStore({
      bucket: 'orderstream-docs', prefix: 'documents/', region: 'eu-west-1', endpoint, forcePathStyle: true,
      credentials: { accessKeyId: 'AKIATESTTESTTEST', secretAccessKey: 'test-secret-key' },
    });
  });
  after(async () => { await s3.stop(); });
  beforeEach(() => { s3.reset(); });

  test('when a small document is put, then it is one signed PUT of the whole body to the bucket path and prefixed key', async () => {
    const content = Buffer.from('sku,name,price\nA-1,Widget,9.99\n');

    const result = await store.put('imports/job-1.csv', Readable.from([content.subarray(0, 10), content.subarray(10)]), { maxBytes: 1024 });

    assert.deepEqual(result, { bytes: content.length });
    assert.equal(s3.requests.length, 1);
    const [put] = s3.requests;
    assert.equal(put?.method, 'PUT');
    assert.equal(put.path, '/orderstream-docs/documents/imports/job-1.csv');
    assert.deepEqual(Object.keys(put.query).filter((name) => !name.startsWith('x-id')), []);
    assert.equal(put.headers['content-length'], String(content.length));
    assert.match(put.headers.authorization ?? '', /^AWS4-HMAC-SHA256 Credential=AKIATESTTESTTEST\/\d{8}\/eu-west-1\/s3\/aws4_request/);
    assert.ok(put.headers['x-amz-date']);
    assert.ok(put.headers['x-amz-content-sha256']);
    assert.deepEqual(s3.objects.get('/orderstream-docs/documents/imports/job-1.csv'), content);
  });

  test('when a document larger than one part is put, then it goes up as a multipart upload that is completed', async () => {
    const size = 6 * mebibyte + 123;

    const result = await store.put('invoices/order-1.pdf', chunksOf(size), { maxBytes: 10 * mebibyte });

    assert.deepEqual(result, { bytes: size });
    const calls = s3.requests.map((request) => `${request.method} ${Object.keys(request.query).filter((name) => name !== 'x-id').sort().join('&')}`);
    assert.deepEqual(calls, ['POST uploads', 'PUT partNumber&uploadId', 'PUT partNumber&uploadId', 'POST uploadId']);
    assert.ok(s3.requests.every((request) => request.path === '/orderstream-docs/documents/invoices/order-1.pdf'));
    // Parts go up concurrently, so their order on the wire is not fixed.
    const parts = s3.requests.filter((request) => request.query.partNumber !== undefined).sort((a, b) => Number(a.query.partNumber) - Number(b.query.partNumber));
    assert.deepEqual(parts.map((part) => [part.query.partNumber, part.headers['content-length']]), [['1', String(5 * mebibyte)], ['2', String(mebibyte + 123)]]);
    assert.ok(s3.objects.get('/orderstream-docs/documents/invoices/order-1.pdf')?.equals(await bytesOf(chunksOf(size))));
  });

  test('when a small document passes maxBytes, then DocumentTooLargeError is thrown and nothing is sent to S3', async () => {
    await assert.rejects(store.put('imports/big.csv', chunksOf(2048, 100), { maxBytes: 1000 }), (thrown) => thrown instanceof DocumentTooLargeError && thrown.maxBytes === 1000);

    assert.deepEqual(s3.requests, []);
    assert.equal(s3.objects.size, 0);
  });

  test('when a document passes maxBytes after its first part went up, then the multipart upload is aborted and no object is left', async () => {
    await assert.rejects(store.put('imports/huge.csv', chunksOf(8 * mebibyte), { maxBytes: 6 * mebibyte }), DocumentTooLargeError);

    const created = s3.requests.filter((request) => request.method === 'POST' && 'uploads' in request.query);
    assert.equal(created.length, 1);
    assert.deepEqual(s3.requests.filter((request) => request.query.partNumber !== undefined).map((part) => part.query.partNumber), ['1']);
    const aborted = s3.requests.filter((request) => request.method === 'DELETE');
    assert.equal(aborted.length, 1);
    assert.equal(aborted[0]?.query.uploadId, 'upload-1');
    assert.equal(aborted[0].path, '/orderstream-docs/documents/imports/huge.csv');
    assert.ok(!s3.requests.some((request) => request.method === 'POST' && 'uploadId' in request.query), 'no CompleteMultipartUpload');
    assert.ok(!s3.requests.some((request) => request.method === 'PUT' && request.query.uploadId === undefined), 'no single PUT');
    assert.equal(s3.openUploads, 0);
    assert.equal(s3.objects.size, 0);
  });

  test('when an existing document is read, then its bytes stream back from a GET of its object', async () => {
    s3.objects.set('/orderstream-docs/documents/invoices/order-2.pdf', Buffer.from('%PDF-1.7 fake'));

    const content = await store.read('invoices/order-2.pdf');

    assert.ok(content !== undefined);
    assert.equal((await bytesOf(content)).toString(), '%PDF-1.7 fake');
    assert.deepEqual(s3.requests.map((request) => [request.method, request.path]), [['GET', '/orderstream-docs/documents/invoices/order-2.pdf']]);
  });

  test('when a missing document is read, then S3 answers 404 NoSuchKey and read answers undefined', async () => {
    assert.equal(await store.read('invoices/none.pdf'), undefined);
    assert.deepEqual(s3.requests.map((request) => [request.method, request.path]), [['GET', '/orderstream-docs/documents/invoices/none.pdf']]);
  });

  test('when a document is removed, then its object is deleted, and removing it again succeeds', async () => {
    s3.objects.set('/orderstream-docs/documents/imports/old.csv', Buffer.from('x'));

    await store.remove('imports/old.csv');
    await store.remove('imports/old.csv');

    assert.equal(s3.objects.size, 0);
    assert.deepEqual(s3.requests.map((request) => [request.method, request.path, request.query.uploadId]), [
      ['DELETE', '/orderstream-docs/documents/imports/old.csv', undefined],
      ['DELETE', '/orderstream-docs/documents/imports/old.csv', undefined],
    ]);
  });

  test('when a key would escape its folder, then it is refused before any request', async () => {
    await assert.rejects(store.read('../secrets'), /Invalid document key/);
    await assert.rejects(store.remove('imports/../../x'), /Invalid document key/);
    assert.deepEqual(s3.requests, []);
  });
});
