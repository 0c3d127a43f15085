import assert from 'node:assert/strict';
import { IncomingMessage, type ServerResponse } from 'node:http';
import { describe, test } from 'node:test';
import helmet from 'helmet';
import { createLogger } from '../logging/logger.ts';
import { createHttpApp } from './app.ts';
import { securityHeaders } from './security-headers.ts';

/** What helmet's middleware sets and removes on a response, with the options the table stands for. */
function helmetHeaders(): { set: Record<string, string>; removed: string[] } {
  const set: Record<string, string> = {};
  const removed: string[] = [];
  const response = {
    setHeader: (name: string, value: unknown) => { set[name.toLowerCase()] = String(value); },
    removeHeader: (name: string) => { removed.push(name.toLowerCase()); },
  };
  const middleware = helmet({ contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } } });
  // helmet reads nothing of the request; it only sets or removes headers on the response.
  middleware(Object.create(IncomingMessage.prototype) as IncomingMessage, response as unknown as ServerResponse, (error?: unknown) => {
    if (error !== undefined) throw error instanceof Error ? error : new Error('helmet refused its options');
  });
  return { set, removed };
}

describe('security headers', () => {
  test('when helmet runs with the API\'s options, then it sets exactly the table\'s headers and only removes X-Powered-By', () => {
    const { set, removed } = helmetHeaders();

    assert.deepEqual(set, { ...securityHeaders });
    assert.deepEqual(removed, ['x-powered-by']);
  });

  test('when the app serves a request with security headers on, then the response carries every header of the table and no X-Powered-By', async () => {
    const app = createHttpApp({ logger: createLogger({ level: 'silent' }), bodyLimit: 1000, readiness: [], routes: [], securityHeaders: true });

    const response = await app.inject({ method: 'GET', url: '/healthz' });

    for (const [name, value] of Object.entries(securityHeaders)) assert.equal(response.headers[name], value, name);
    assert.equal(response.headers['x-powered-by'], undefined);
    await app.close();
  });

  test('when the table is changed at run time, then it refuses', () => {
    assert.throws(() => { (securityHeaders as Record<string, string>)['x-frame-options'] = 'ALLOWALL'; }, TypeError);
  });
});
