import assert from 'node:assert/strict';
import type { OutgoingHttpHeaders } from 'node:http';
import { createConnection, type AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import { createLogger } from '../logging/logger.ts';
import { createHttpApp, type HttpApp } from './app.ts';
import { problemTypeBase } from './problem.ts';

const lines: Record<string, unknown>[] = [];
let app: HttpApp;
let port: number;

before(async () => {
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>); } } });
  app = createHttpApp({
    logger,
    bodyLimit: 64,
    readiness: [],
    securityHeaders: true,
    documentation: false,
    routes: [(scoped) => {
      scoped.get('/v1/orders/:id', { schema: { params: z.object({ id: z.string() }) } }, (request) => ({ id: request.params.id }));
      scoped.get('/v1/products/:id', { schema: { params: z.object({ id: z.string() }) } }, (request) => ({ id: request.params.id }));
      scoped.post('/echo', { schema: { body: z.object({ n: z.int() }) } }, (request) => request.body);
    }],
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  port = (app.server.address() as AddressInfo).port;
});
after(async () => { await app.close(); });

interface Answer { statusCode: number; headers: OutgoingHttpHeaders; body: string }
interface ProblemBody { type: string; status: number; requestId: string; instance?: string }

/** Checks what every error response shares and returns its body. */
function assertProblem(answer: Answer, status: number, slug: string): ProblemBody {
  assert.equal(answer.statusCode, status);
  assert.match(String(answer.headers['content-type']), /^application\/problem\+json/);
  const body = JSON.parse(answer.body) as ProblemBody;
  assert.equal(body.type, `${problemTypeBase}${slug}`);
  assert.equal(body.status, status);
  assert.equal(typeof body.requestId, 'string');
  assert.notEqual(body.requestId, '');
  assert.equal(answer.headers['x-request-id'], body.requestId);
  assert.equal(answer.headers['x-content-type-options'], 'nosniff');
  return body;
}

/** Writes `request` as raw bytes on a new connection and reads the answer until the server closes it. */
async function exchange(request: string): Promise<Answer> {
  const raw = await new Promise<string>((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('close', () => { resolve(Buffer.concat(chunks).toString('utf8')); });
    // A reset after the answer was read still leaves the answer to check.
    socket.on('error', () => undefined);
    socket.write(request);
  });
  const [head = '', body = ''] = raw.split('\r\n\r\n');
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers: OutgoingHttpHeaders = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { statusCode: Number(statusLine.split(' ')[1]), headers, body };
}

describe('errors raised by routing and body parsing', () => {
  test('when no route matches, then 404 problem+json', async () => {
    assertProblem(await app.inject({ method: 'GET', url: '/v1/nothing-here' }), 404, 'not-found');
  });

  test('when a route exists but not for the method, then 404 problem+json, as the router answers no 405', async () => {
    assertProblem(await app.inject({ method: 'DELETE', url: '/v1/orders/1' }), 404, 'not-found');
  });

  test('when the body is larger than the limit, then 413 problem+json', async () => {
    const response = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ n: 1, pad: 'x'.repeat(100) }) });
    assertProblem(response, 413, 'body-too-large');
  });

  test('when the body is not JSON, then 415 problem+json', async () => {
    const response = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'text/plain' }, payload: 'n=1' });
    assertProblem(response, 415, 'unsupported-media-type');
  });

  test('when the JSON body is malformed, then 400 problem+json', async () => {
    const response = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: '{"n": 1' });
    assertProblem(response, 400, 'malformed-json');
  });
});

describe('errors raised by the router before any hook', () => {
  test('when a path parameter does not decode to UTF-8, then 400 problem+json naming the URL, with the incoming request id kept', async () => {
    const response = await app.inject({ method: 'GET', url: '/v1/orders/%00%ff', headers: { 'x-request-id': 'bad-url-1' } });
    const body = assertProblem(response, 400, 'malformed-url');
    assert.equal(body.requestId, 'bad-url-1');
    assert.equal(body.instance, '/v1/orders/%00%ff');
  });

  test('when a path holds an invalid percent-encoding, then 400 problem+json and one access-log line', async () => {
    lines.length = 0;
    const body = assertProblem(await app.inject({ method: 'GET', url: '/v1/products/%zz' }), 400, 'malformed-url');
    const logged = lines.filter((line) => line.msg === 'request completed' && line.requestId === body.requestId);
    assert.deepEqual(logged.map((line) => [line.route, line.statusCode]), [['unmatched', 400]]);
  });

  test('when a path parameter is longer than 100 characters, then 414 problem+json; at 100, then it is served', async () => {
    assertProblem(await app.inject({ method: 'GET', url: `/v1/orders/${'a'.repeat(101)}` }), 414, 'path-parameter-too-long');
    const served = await app.inject({ method: 'GET', url: `/v1/orders/${'a'.repeat(100)}` });
    assert.equal(served.statusCode, 200);
  });

  test('when the query holds an invalid percent-encoding, then 400 problem+json naming the URL, as for the path, and no handler runs', async () => {
    for (const url of ['/v1/orders/1?q=%zz', '/v1/orders/1?%zz=1', '/v1/orders/1?q=%ff']) {
      const body = assertProblem(await app.inject({ method: 'GET', url }), 400, 'malformed-url');
      assert.equal(body.instance, url);
    }
    assert.equal((await app.inject({ method: 'GET', url: '/v1/orders/1?q=caf%C3%A9' })).statusCode, 200);
  });

  test('when a path parameter decodes to text with a NUL, then 400 problem+json naming it', async () => {
    const response = await app.inject({ method: 'GET', url: '/v1/orders/a%00b' });
    assertProblem(response, 400, 'validation-error');
    assert.deepEqual(response.json<{ errors: unknown }>().errors, [{ location: 'params', field: 'id', message: 'must not contain the NUL character (U+0000)' }]);
  });

  test('when a path parameter does not decode and the request comes over a socket, then 400 problem+json as well', async () => {
    const answer = await exchange('GET /v1/orders/%00%ff HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n');
    assertProblem(answer, 400, 'malformed-url');
  });
});

describe('errors raised by the HTTP parser, over a socket', () => {
  test('when the request headers are too large, then 431 problem+json under a new request id, also logged', async () => {
    lines.length = 0;
    const answer = await exchange(`GET /v1/orders/1 HTTP/1.1\r\nhost: localhost\r\nx-padding: ${'a'.repeat(17 * 1024)}\r\n\r\n`);
    const body = assertProblem(answer, 431, 'headers-too-large');
    assert.match(body.requestId, /^[0-9a-f-]{36}$/);
    assert.equal(answer.headers['content-length'], String(Buffer.byteLength(answer.body)));
    assert.ok(lines.some((line) => line.msg === 'request refused by the HTTP parser' && line.requestId === body.requestId));
  });

  test('when the request line is garbage, then 400 problem+json and the connection is closed', async () => {
    const answer = await exchange('this is not http\r\n\r\n');
    assertProblem(answer, 400, 'malformed-request');
    assert.equal(answer.headers.connection, 'close');
  });
});
