import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../platform/config/config.ts';
import { createLogger } from '../../platform/logging/logger.ts';
import { createGateway, type Gateway } from './gateway.ts';

const secret = 'gateway-test-secret-0123456789-0123456789';
const failuresToEject = 3;

/**
 * A service behind the gateway, as a real HTTP server: it records the headers of every request and
 * answers 200 with hop-by-hop headers of its own, which must not reach the client.
 */
let upstream: Server;
const seen: IncomingHttpHeaders[] = [];
let gateway: Gateway;
let gatewayUrl: string;

before(async () => {
  upstream = createServer((request, response) => {
    // The gateway's health probes are not the requests under test.
    if (request.url === '/readyz') {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ready"}');
      return;
    }
    request.resume();
    request.on('end', () => {
      seen.push(request.headers);
      response.writeHead(200, {
        'content-type': 'application/json', connection: 'keep-alive, x-upstream-hop', 'x-upstream-hop': 'secret',
        'keep-alive': 'timeout=1234', 'proxy-authenticate': 'Basic realm="upstream"', 'proxy-extra': 'upstream',
      });
      response.end('{"items":[]}');
    });
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  gateway = createGateway({
    config: loadConfig({
      GATEWAY_SECRET: secret, GATEWAY_UPSTREAMS: `*=http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
      GATEWAY_FAILURES_TO_EJECT: String(failuresToEject), RATE_LIMIT_BURST: '10000', LOG_LEVEL: 'silent',
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

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request over a real connection of its own, so that connection-level headers reach the gateway as a client sends them. */
function send(options: { method?: string; path?: string; headers?: OutgoingHttpHeaders; body?: string[] }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(`${gatewayUrl}${options.path ?? '/v1/products'}`, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => { resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }); });
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    for (const chunk of options.body ?? []) outgoing.write(chunk);
    outgoing.end();
  });
}

/** Each header a client may send that belongs to its own hop, with the names that must not reach the service. */
const hopHeaders: { name: string; headers: OutgoingHttpHeaders; method?: string; path?: string; body?: string[]; dropped: string[] }[] = [
  { name: 'Expect', headers: { expect: '100-continue' }, dropped: ['expect'] },
  { name: 'Expect on a request with a body', method: 'POST', path: '/v1/payments/stripe/webhook', headers: { expect: '100-continue', 'content-type': 'application/json' }, body: ['{"id":"evt_1"}'], dropped: ['expect'] },
  { name: 'Connection: close', headers: { connection: 'close' }, dropped: [] },
  { name: 'Connection naming other headers', headers: { connection: 'keep-alive, x-hop-secret, x-other-hop', 'x-hop-secret': '1', 'x-other-hop': '2' }, dropped: ['x-hop-secret', 'x-other-hop'] },
  { name: 'Upgrade', headers: { upgrade: 'websocket' }, dropped: ['upgrade'] },
  { name: 'Upgrade named by Connection', headers: { connection: 'upgrade', upgrade: 'h2c' }, dropped: ['upgrade'] },
  { name: 'TE', headers: { te: 'trailers' }, dropped: ['te'] },
  { name: 'Trailer', method: 'POST', path: '/v1/payments/stripe/webhook', headers: { trailer: 'x-checksum', 'content-type': 'application/json' }, body: ['{"id":', '"evt_3"}'], dropped: ['trailer'] },
  { name: 'Keep-Alive', headers: { 'keep-alive': 'timeout=5, max=100' }, dropped: ['keep-alive'] },
  { name: 'Proxy-Authorization', headers: { 'proxy-authorization': 'Basic dXNlcjpwYXNz' }, dropped: ['proxy-authorization'] },
  { name: 'Proxy-Connection', headers: { 'proxy-connection': 'keep-alive' }, dropped: ['proxy-connection'] },
  { name: 'another Proxy-* header', headers: { 'proxy-foo': 'bar' }, dropped: ['proxy-foo'] },
  { name: 'Transfer-Encoding', method: 'POST', path: '/v1/payments/stripe/webhook', headers: { 'transfer-encoding': 'chunked', 'content-type': 'application/json' }, body: ['{"id":', '"evt_2"}'], dropped: ['transfer-encoding'] },
];

describe('the gateway and the headers of one hop', () => {
  for (const hop of hopHeaders) {
    test(`when anonymous clients send ${hop.name} more often than failures eject an instance, then each is answered 200, the service never sees the header, and the instance stays in rotation`, async () => {
      seen.length = 0;
      const requests = failuresToEject + 2;
      const answers: Answer[] = [];
      for (let index = 0; index < requests; index += 1) {
        answers.push(await send({ headers: hop.headers, ...(hop.method === undefined ? {} : { method: hop.method }), ...(hop.path === undefined ? {} : { path: hop.path }), ...(hop.body === undefined ? {} : { body: hop.body }) }));
      }
      assert.deepEqual(answers.map((answer) => answer.status), Array.from({ length: requests }, () => 200), answers.map((answer) => answer.body).join('\n'));
      assert.equal(seen.length, requests, 'every request reached the service');
      for (const headers of seen) {
        for (const name of hop.dropped) assert.equal(headers[name], undefined, `${name} is not forwarded`);
      }
      if (hop.body !== undefined) assert.equal(seen[0]?.['content-length'], String(hop.body.join('').length), 'the body reaches the service whole, with its length');
      const pool = gateway.upstreams.get(hop.path === undefined ? 'catalog' : 'payments');
      assert.equal(pool?.available, true, 'the instance is still in rotation');
      assert.equal(pool.circuit, 'closed');
      assert.equal((await send({})).status, 200);
    });
  }

  test('when the service answers with hop-by-hop headers, then the client gets the answer without them', async () => {
    const answer = await send({});
    assert.equal(answer.status, 200);
    assert.equal(answer.body, '{"items":[]}');
    assert.equal(answer.headers['x-upstream-hop'], undefined, 'a header the service\'s Connection named is dropped');
    assert.equal(answer.headers['proxy-authenticate'], undefined);
    assert.equal(answer.headers['proxy-extra'], undefined);
    assert.notEqual(answer.headers['keep-alive'], 'timeout=1234', 'the gateway states its own keep-alive, not the service\'s');
  });

  test('when a request carries a header the client library refuses, then the client gets 400 problem+json and the instance stays in rotation', async () => {
    // Node's own parser refuses such a value on a real connection; inject() hands it to the gateway as it is.
    const answers = [];
    for (let index = 0; index < failuresToEject + 2; index += 1) {
      answers.push(await gateway.app.inject({ method: 'GET', url: '/v1/products', headers: { 'x-note': 'a\u0001b' } }));
    }
    for (const answer of answers) {
      assert.equal(answer.statusCode, 400, answer.body);
      assert.match(String(answer.headers['content-type']), /^application\/problem\+json/);
      assert.equal(answer.json<{ type: string }>().type, 'https://orderstream.dev/problems/unforwardable-request');
    }
    const pool = gateway.upstreams.get('catalog');
    assert.equal(pool?.available, true);
    assert.equal(pool.circuit, 'closed');
    assert.equal((await send({})).status, 200);
  });
});
