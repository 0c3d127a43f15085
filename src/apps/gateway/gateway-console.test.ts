import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../platform/config/config.ts';
import { consoleContentSecurityPolicy } from '../../platform/http/console-files.ts';
import { createLogger } from '../../platform/logging/logger.ts';
import { consoleDistDir } from '../console.ts';
import { createGateway, type Gateway } from './gateway.ts';

const secret = 'gateway-test-secret-0123456789-0123456789';

/** A service behind the gateway that records what reached it, by path. */
let upstream: Server;
const seen = new Map<string, IncomingHttpHeaders>();
let gateway: Gateway;

before(async () => {
  upstream = createServer((request, response) => {
    if (request.url !== '/readyz') seen.set(request.url ?? '', request.headers);
    request.resume();
    request.on('end', () => { response.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'orderstream_refresh=next; Path=/v1/auth; HttpOnly; SameSite=Strict' }).end('{}'); });
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  gateway = createGateway({
    config: loadConfig({ GATEWAY_SECRET: secret, GATEWAY_UPSTREAMS: `*=http://127.0.0.1:${(upstream.address() as AddressInfo).port}`, LOG_LEVEL: 'silent' }),
    logger: createLogger({ level: 'silent' }),
  });
  await gateway.app.ready();
});

after(async () => {
  await gateway.close();
  upstream.closeAllConnections();
  upstream.close();
});

describe('the gateway and the operations console', () => {
  test('when /console is asked of the gateway, then the gateway answers it itself (the page, or 503 when it is not built), never a service', async () => {
    const response = await gateway.app.inject({ method: 'GET', url: '/console/products' });
    if (existsSync(path.join(consoleDistDir, 'index.html'))) {
      assert.equal(response.statusCode, 200);
      assert.equal(response.headers['content-security-policy'], consoleContentSecurityPolicy);
    } else {
      assert.equal(response.statusCode, 503);
    }
    assert.equal(seen.has('/console/products'), false);
  });

  test('when a browser refreshes with its refresh-token cookie, then the gateway passes the cookie to identity and the new one back; on other routes it drops cookies', async () => {
    const refreshed = await gateway.app.inject({
      method: 'POST', url: '/v1/auth/refresh', headers: { cookie: 'orderstream_refresh=first', 'content-type': 'application/json', 'x-refresh-token-mode': 'cookie' }, payload: '{}',
    });
    assert.equal(refreshed.statusCode, 200);
    assert.equal(seen.get('/v1/auth/refresh')?.cookie, 'orderstream_refresh=first');
    assert.match(String(refreshed.headers['set-cookie']), /^orderstream_refresh=next;/);
    await gateway.app.inject({ method: 'GET', url: '/v1/products', headers: { cookie: 'orderstream_refresh=first' } });
    assert.equal(seen.get('/v1/products')?.cookie, undefined);
  });
});
