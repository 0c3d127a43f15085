import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createConnection, type AddressInfo, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import { createLogger } from '../logging/logger.ts';
import { createHttpApp, type HttpApp } from './app.ts';
import { problemTypeBase } from './problem.ts';
import { applyServerTimeouts } from './server-timeouts.ts';

const timeouts = { requestTimeoutMs: 1500, headersTimeoutMs: 800, keepAliveTimeoutMs: 500 };
let app: HttpApp;
let port: number;
let handled = 0;

before(async () => {
  app = createHttpApp({
    logger: createLogger({ level: 'silent' }), bodyLimit: 1024 * 1024, readiness: [], documentation: false,
    routes: [(scoped) => {
      scoped.post('/echo', { schema: { body: z.object({ text: z.string() }) } }, (request) => { handled += 1; return request.body; });
    }],
  });
  applyServerTimeouts(app.server, timeouts);
  await app.listen({ port: 0, host: '127.0.0.1' });
  port = (app.server.address() as AddressInfo).port;
});
after(async () => { await app.close(); });

interface Cut { answer: string; elapsedMs: number }

/** Opens a connection, writes `head` at once, then one byte of `trickle` a second until the server closes it. */
async function trickle(head: string, bytes: string, onConnection: (socket: Socket) => void = () => undefined): Promise<Cut> {
  const started = performance.now();
  return new Promise<Cut>((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    onConnection(socket);
    const chunks: Buffer[] = [];
    let sent = 0;
    const timer = setInterval(() => {
      if (sent < bytes.length && socket.writable) socket.write(bytes.charAt(sent));
      sent += 1;
    }, 1000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ answer: Buffer.concat(chunks).toString('utf8'), elapsedMs: performance.now() - started });
    });
    socket.write(head);
  });
}

function assertRequestTimeout(answer: string): void {
  const [head = '', body = ''] = answer.split('\r\n\r\n');
  assert.match(head, /^HTTP\/1\.1 408 /);
  assert.match(head, /content-type: application\/problem\+json/);
  const problem = JSON.parse(body) as { type: string; status: number; requestId: string };
  assert.equal(problem.type, `${problemTypeBase}request-timeout`);
  assert.equal(problem.status, 408);
  assert.match(problem.requestId, /^[0-9a-f-]{36}$/);
}

describe('a listener with timeouts', () => {
  test('when a client sends its body one byte a second, then it gets 408 problem+json and is cut off near the request timeout, and no handler runs', async () => {
    const body = JSON.stringify({ text: 'x'.repeat(40) });
    const before = handled;
    const cut = await trickle(`POST /echo HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`, body);
    assertRequestTimeout(cut.answer);
    assert.ok(cut.elapsedMs >= timeouts.requestTimeoutMs && cut.elapsedMs < timeouts.requestTimeoutMs + 2000, `cut after ${Math.round(cut.elapsedMs)} ms`);
    assert.equal(handled, before);
  });

  test('when a client sends its headers one byte a second, then it gets 408 problem+json and is cut off near the headers timeout', async () => {
    const cut = await trickle('GET /healthz HTTP/1.1\r\nhost: local', 'host\r\nx-slow: yes\r\n\r\n');
    assertRequestTimeout(cut.answer);
    assert.ok(cut.elapsedMs >= timeouts.headersTimeoutMs && cut.elapsedMs < timeouts.headersTimeoutMs + 2000, `cut after ${Math.round(cut.elapsedMs)} ms`);
  });

  test('when a kept-alive connection stays idle, then it is closed after the keep-alive timeout', async () => {
    const cut = await trickle('GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n', '');
    assert.match(cut.answer, /^HTTP\/1\.1 200 /);
    assert.ok(cut.elapsedMs >= timeouts.keepAliveTimeoutMs && cut.elapsedMs < timeouts.keepAliveTimeoutMs + 2500, `closed after ${Math.round(cut.elapsedMs)} ms`);
  });

  test('when a request arrives within the limits, then it is served', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'hi' }) });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { text: 'hi' });
  });

  test('when the headers timeout is longer than the request timeout, then the timeouts are refused', () => {
    assert.throws(() => { applyServerTimeouts(createServer(), { requestTimeoutMs: 1000, headersTimeoutMs: 2000, keepAliveTimeoutMs: 1000 }); }, RangeError);
  });
});
