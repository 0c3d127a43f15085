import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import { createLogger, type Logger } from '../logging/logger.ts';
import { createHttpApp, type HttpApp } from './app.ts';

const lines: Record<string, unknown>[] = [];
let logger: Logger;
let app: HttpApp;
let ready = true;

async function somethingDeep(log: Logger): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 5));
  log.info('deep inside the work of the request');
}

before(async () => {
  logger = createLogger({ level: 'info', destination: { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>); } } });
  app = createHttpApp({
    logger,
    bodyLimit: 1024,
    readiness: [{ name: 'database', check: () => Promise.resolve(ready) }],
    routes: [(scoped) => {
      scoped.get('/boom', () => { throw new Error('secret internals: password=hunter2'); });
      scoped.post('/echo', { schema: { body: z.object({ n: z.int() }), response: { 200: z.object({ n: z.int() }) } } }, async (request) => {
        await somethingDeep(logger);
        return request.body;
      });
    }],
  });
  await app.ready();
});
after(async () => { await app.close(); });

describe('request ids', () => {
  test('when a request arrives without an id, then one is generated, echoed, and on every log line of its work', async () => {
    lines.length = 0;
    const response = await app.inject({ method: 'POST', url: '/echo', payload: { n: 1 } });
    const requestId = response.headers['x-request-id'];
    assert.equal(typeof requestId, 'string');
    const deep = lines.find((line) => line.msg === 'deep inside the work of the request');
    const access = lines.find((line) => line.msg === 'request completed');
    assert.equal(deep?.requestId, requestId);
    assert.equal(access?.requestId, requestId);
    assert.equal(access?.route, '/echo');
  });

  test('when a well-formed x-request-id is sent, then it is kept; when it is malformed, then it is replaced', async () => {
    const kept = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'abc-123' } });
    assert.equal(kept.headers['x-request-id'], 'abc-123');
    const replaced = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'bad id with spaces\u0000' } });
    assert.notEqual(replaced.headers['x-request-id'], 'bad id with spaces\u0000');
    assert.match(String(replaced.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });
});

describe('errors', () => {
  test('when a handler fails unexpectedly, then 500 problem+json without internals, logged with the request id', async () => {
    lines.length = 0;
    const response = await app.inject({ method: 'GET', url: '/boom' });
    assert.equal(response.statusCode, 500);
    assert.match(response.headers['content-type'] ?? '', /^application\/problem\+json/);
    assert.doesNotMatch(response.body, /hunter2|secret internals|at .*\.ts/);
    const logged = lines.find((line) => line.level === 'error');
    assert.equal(logged?.requestId, response.headers['x-request-id']);
  });

  test('when no route matches, then 404 problem+json', async () => {
    const response = await app.inject({ method: 'GET', url: '/v1/nothing-here' });
    assert.equal(response.statusCode, 404);
    assert.equal(response.json<{ type: string }>().type, 'https://orderstream.dev/problems/not-found');
  });

  test('when the body breaks the schema, then 400 lists the field', async () => {
    const response = await app.inject({ method: 'POST', url: '/echo', payload: { n: 'one' } });
    assert.equal(response.statusCode, 400);
    assert.deepEqual(response.json<{ errors: { field: string; location: string }[] }>().errors.map((error) => [error.location, error.field]), [['body', 'n']]);
  });
});

describe('operations endpoints', () => {
  test('when the database answers, then /readyz is 200; when it does not, then 503 problem+json naming it', async () => {
    ready = true;
    assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
    ready = false;
    const down = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(down.statusCode, 503);
    assert.match(down.json<{ detail: string }>().detail, /database/);
    ready = true;
  });

  test('when /openapi.json is fetched, then it documents the registered routes', async () => {
    const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{ openapi: string; paths: Record<string, unknown> }>();
    assert.equal(document.openapi, '3.1.0');
    assert.ok('/echo' in document.paths);
    assert.ok('/healthz' in document.paths);
  });

  test('when /docs is fetched, then an HTML page is served', async () => {
    const response = await app.inject({ method: 'GET', url: '/docs/' });
    assert.equal(response.statusCode, 200);
    assert.match(response.headers['content-type'] ?? '', /text\/html/);
  });
});
