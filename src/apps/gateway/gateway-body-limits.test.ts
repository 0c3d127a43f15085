import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, request as httpRequest, type ClientRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { loadConfig } from '../../platform/config/config.ts';
import { createLogger } from '../../platform/logging/logger.ts';
import { createGateway, type Gateway } from './gateway.ts';

const secret = 'gateway-test-secret-0123456789-0123456789';
const issuer = 'http://127.0.0.1:8080';
const audience = 'orderstream-api';
const bodyLimit = 64 * 1024;
const importLimit = 8 * 1024 * 1024;
const failuresToEject = 3;

/**
 * A service behind the gateway, as a real HTTP server: it publishes the signing key as identity
 * does, and answers every other request, once its body has ended, with the size and SHA-256 of the
 * body it received. Each request's first body bytes are announced as they arrive.
 */
let upstream: Server;
const hits: string[] = [];
const bodyStarted: ((url: string) => void)[] = [];
let signingKey: CryptoKey;
let gateway: Gateway;
let gatewayUrl: string;

before(async () => {
  const pair = await generateKeyPair('ES256');
  signingKey = pair.privateKey;
  const jwk = { ...await exportJWK(pair.publicKey), kid: 'key-1', alg: 'ES256', use: 'sig' };
  upstream = createServer((request, response) => {
    if (request.url === '/readyz') {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ready"}');
      return;
    }
    if (request.url === '/.well-known/jwks.json') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
      return;
    }
    hits.push(`${request.method ?? ''} ${request.url ?? ''}`);
    const early = /[?&]answer-early=(dump|close)/.exec(request.url ?? '')?.[1];
    if (early !== undefined) {
      // A service refusing an upload part-way (a file over its own limit): it answers before the body
      // has ended, then either lets the server drain the rest or closes the connection.
      request.once('data', () => {
        response.writeHead(413, { 'content-type': 'application/problem+json', ...(early === 'close' ? { connection: 'close' } : {}) })
          .end(JSON.stringify({ type: 'https://orderstream.dev/problems/body-too-large', title: 'The file is too large', status: 413 }));
        if (early === 'close') request.socket.destroySoon();
      });
      request.on('error', () => undefined);
      return;
    }
    const hash = createHash('sha256');
    let bytes = 0;
    request.on('error', () => undefined); // a request the gateway cut off
    request.on('data', (chunk: Buffer) => {
      if (bytes === 0) for (const listener of bodyStarted.splice(0)) listener(request.url ?? '');
      bytes += chunk.length;
      hash.update(chunk);
    });
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ bytes, sha256: hash.digest('hex') }));
    });
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  gateway = createGateway({
    config: loadConfig({
      GATEWAY_SECRET: secret, GATEWAY_UPSTREAMS: `*=http://127.0.0.1:${(upstream.address() as AddressInfo).port}`, IDENTITY_ISSUER: issuer, IDENTITY_AUDIENCE: audience,
      BODY_LIMIT_BYTES: String(bodyLimit), IMPORT_MAX_BYTES: String(importLimit), GATEWAY_FAILURES_TO_EJECT: String(failuresToEject),
      RATE_LIMIT_BURST: '10000', LOG_LEVEL: 'silent',
    }),
    logger: createLogger({ level: 'silent' }),
  });
  gatewayUrl = await gateway.app.listen({ port: 0, host: '127.0.0.1' });
});

after(async () => {
  await gateway.close();
  upstream.closeAllConnections();
  upstream.close();
});

function adminToken(): Promise<string> {
  return new SignJWT({ roles: ['admin'], email: 'admin@example.com' })
    .setProtectedHeader({ alg: 'ES256', kid: 'key-1' })
    .setIssuer(issuer).setAudience(audience).setSubject('usr_admin').setIssuedAt().setExpirationTime('5m').setJti(crypto.randomUUID())
    .sign(signingKey);
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A request over a connection of its own whose body the test writes (and ends, or not) itself. */
function open(path: string, headers: OutgoingHttpHeaders): { request: ClientRequest; answer: Promise<Answer> } {
  const request = httpRequest(`${gatewayUrl}${path}`, { method: 'POST', headers, agent: false });
  const answer = new Promise<Answer>((resolve, reject) => {
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => { resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }); });
      response.on('error', reject);
    });
    // Writing into a connection the gateway closed after answering fails here, not the test.
    request.on('error', (error) => { setTimeout(() => { reject(error); }, 200); });
  });
  request.flushHeaders();
  return { request, answer };
}

/** Fails instead of waiting forever for something that must happen before the client finishes. */
async function within<T>(promise: Promise<T>, milliseconds: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`not within ${milliseconds} ms: ${what}`)); }, milliseconds); });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

function assertProblem(answer: Answer, status: number, slug: string): void {
  assert.equal(answer.status, status, answer.body);
  assert.match(String(answer.headers['content-type']), /^application\/problem\+json/);
  assert.equal((JSON.parse(answer.body) as { type: string }).type, `https://orderstream.dev/problems/${slug}`);
}

describe('the gateway and request bodies', () => {
  test('when an anonymous client declares a body over BODY_LIMIT_BYTES to an ordinary route, then it gets 413 problem+json before sending a byte of it, and the service is not called', async () => {
    hits.length = 0;
    // Over BODY_LIMIT_BYTES, under the upload limit: only the upload route may take that much.
    const { request, answer } = open('/v1/payments/stripe/webhook', { 'content-type': 'application/json', 'content-length': String(1024 * 1024) });
    assertProblem(await within(answer, 2000, 'an answer without reading the body'), 413, 'body-too-large');
    request.destroy();
    assert.deepEqual(hits, []);
  });

  test('when an anonymous client streams a chunked body past BODY_LIMIT_BYTES, then it gets 413 problem+json while still sending, and the service is not called', async () => {
    hits.length = 0;
    const { request, answer } = open('/v1/payments/stripe/webhook', { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    for (let sent = 0; sent <= bodyLimit; sent += 16 * 1024) request.write(Buffer.alloc(16 * 1024, 0x20));
    // The body never ends: only a gateway that cuts it off at the limit can answer.
    assertProblem(await within(answer, 2000, 'an answer before the body ends'), 413, 'body-too-large');
    request.destroy();
    assert.deepEqual(hits, []);
  });

  test('when a declared body is over the upload limit, or an anonymous client starts an upload, then it is refused before a byte is read', async () => {
    hits.length = 0;
    const tooLarge = open('/v1/imports', { authorization: `Bearer ${await adminToken()}`, 'content-type': 'multipart/form-data; boundary=x', 'content-length': String(importLimit * 2) });
    assertProblem(await within(tooLarge.answer, 2000, 'an answer without reading the body'), 413, 'body-too-large');
    tooLarge.request.destroy();
    const anonymous = open('/v1/imports', { 'content-type': 'multipart/form-data; boundary=x', 'content-length': String(importLimit / 2) });
    assertProblem(await within(anonymous.answer, 2000, 'an answer without reading the body'), 401, 'unauthenticated');
    anonymous.request.destroy();
    assert.deepEqual(hits, []);
  });

  test('when an admin uploads a body larger than BODY_LIMIT_BYTES to the import route, then it streams through: the service receives bytes before the client has sent them all, and the whole body intact', async () => {
    hits.length = 0;
    const content = randomBytes(5 * 1024 * 1024);
    const { request, answer } = open('/v1/imports', {
      authorization: `Bearer ${await adminToken()}`, 'content-type': 'multipart/form-data; boundary=x', 'content-length': String(content.length),
    });
    const started = new Promise<string>((resolve) => { bodyStarted.push(resolve); });
    request.write(content.subarray(0, 256 * 1024));
    // A gateway that held the body until its end would never pass these first bytes on.
    assert.equal(await within(started, 5000, 'the service received the first bytes while the client was still sending'), '/v1/imports');
    request.end(content.subarray(256 * 1024));
    const received = await within(answer, 10_000, 'the answer to the upload');
    assert.equal(received.status, 200, received.body);
    assert.deepEqual(JSON.parse(received.body), { bytes: content.length, sha256: createHash('sha256').update(content).digest('hex') });
    assert.deepEqual(hits, ['POST /v1/imports']);
  });

  test('when an admin uploads a file of exactly IMPORT_MAX_BYTES, then its multipart framing fits in the upload limit too and the whole body reaches the service', async () => {
    hits.length = 0;
    const boundary = 'orderstream-exact-limit';
    const content = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="products.csv"\r\nContent-Type: text/csv\r\n\r\n`),
      Buffer.alloc(importLimit, 0x61),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const { request, answer } = open('/v1/imports', {
      authorization: `Bearer ${await adminToken()}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(content.length),
    });
    request.end(content);
    const received = await within(answer, 10_000, 'the answer to the upload');
    assert.equal(received.status, 200, received.body);
    assert.deepEqual(JSON.parse(received.body), { bytes: content.length, sha256: createHash('sha256').update(content).digest('hex') });
    assert.deepEqual(hits, ['POST /v1/imports']);
  });

  test('when an admin streams a chunked upload past the upload limit, then it gets 413 problem+json while still sending, and the instance stays in rotation', async () => {
    const token = await adminToken();
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    for (let attempt = 0; attempt < failuresToEject + 1; attempt += 1) {
      const { request, answer } = open('/v1/imports', { authorization: `Bearer ${token}`, 'content-type': 'multipart/form-data; boundary=x', 'transfer-encoding': 'chunked' });
      for (let sent = 0; sent <= importLimit + 64 * 1024; sent += chunk.length) request.write(chunk);
      assertProblem(await within(answer, 5000, 'an answer before the body ends'), 413, 'body-too-large');
      request.destroy();
    }
    const pool = gateway.upstreams.get('jobs');
    assert.equal(pool?.available, true);
    assert.equal(pool.circuit, 'closed');
  });

  for (const how of ['dump', 'close'] as const) {
    test(`when the service answers an upload before reading all of it (${how === 'dump' ? 'draining the rest' : 'closing the connection'}), then its answer reaches the client and the instance stays in rotation`, async () => {
      const token = await adminToken();
      for (let attempt = 0; attempt < failuresToEject + 1; attempt += 1) {
        const { request, answer } = open(`/v1/imports?answer-early=${how}`, { authorization: `Bearer ${token}`, 'content-type': 'multipart/form-data; boundary=x', 'content-length': String(4 * 1024 * 1024) });
        answer.catch(() => undefined);
        request.write(Buffer.alloc(256 * 1024, 0x63));
        const received = await within(answer, 5000, 'the service\'s early answer');
        assertProblem(received, 413, 'body-too-large');
        request.destroy();
      }
      await sleep(100);
      const pool = gateway.upstreams.get('jobs');
      assert.equal(pool?.available, true);
      assert.equal(pool.circuit, 'closed');
    });
  }

  test('when clients leave in the middle of their uploads, then the instance stays in rotation', async () => {
    const token = await adminToken();
    for (let attempt = 0; attempt < failuresToEject + 1; attempt += 1) {
      const { request, answer } = open('/v1/imports', { authorization: `Bearer ${token}`, 'content-type': 'multipart/form-data; boundary=x', 'content-length': String(4 * 1024 * 1024) });
      answer.catch(() => undefined);
      const started = new Promise<string>((resolve) => { bodyStarted.push(resolve); });
      request.write(Buffer.alloc(256 * 1024, 0x62));
      await within(started, 5000, 'the service received the first bytes');
      request.destroy();
    }
    await sleep(100);
    const pool = gateway.upstreams.get('jobs');
    assert.equal(pool?.available, true);
    assert.equal(pool.circuit, 'closed');
    const { request, answer } = open('/v1/imports', { authorization: `Bearer ${token}`, 'content-type': 'multipart/form-data; boundary=x', 'content-length': '3' });
    request.end('abc');
    assert.equal((await within(answer, 2000, 'an answer')).status, 200);
  });
});
