import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Database } from '../../../src/platform/database/database.ts';
import { principalHeader, signatureHeader } from '../../../src/platform/http/gateway-signature.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../src/platform/testing/test-database.ts';
import { freePort, OrderStreamProcess } from '../harness/orderstream-process.ts';
import { call, signIn, type RunningShape } from '../harness/shapes.ts';

/**
 * A gateway process and a service process (`--role api`), with a recording relay on the link
 * between them standing for someone who can read that link: every header pair the gateway signs is
 * captured, then replayed straight to the service. Statements are valid for 3 s here, so the
 * window can be waited out.
 */
interface Captured {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

/** Requests with this header are recorded but never passed on, as if taken off the link. */
const holdHeader = 'x-test-hold';
const validitySeconds = 3;

describe('a captured gateway statement replayed to a service', () => {
  let database: { url: string; db: Database; drop: () => Promise<void> };
  let documents: string;
  let service: OrderStreamProcess;
  let gateway: OrderStreamProcess;
  let relay: Server;
  let serviceUrl: string;
  let shape: RunningShape;
  let admin: string;
  const captured: Captured[] = [];

  before(async () => {
    database = await createTestDatabase(embeddedServerUrl(), []);
    documents = await mkdtemp(path.join(tmpdir(), 'orderstream-replay-'));
    const secret = randomBytes(32).toString('base64');
    const shared = { GATEWAY_SECRET: secret, LOG_LEVEL: 'info', HOST: '127.0.0.1' };
    const servicePort = await freePort();
    serviceUrl = `http://127.0.0.1:${servicePort}`;
    service = new OrderStreamProcess('service', ['--role', 'api'], {
      ...shared, PORT: String(servicePort), DATABASE_URL: database.url, DOCUMENTS_DIR: documents, EMAIL_OUTBOX_DIR: documents,
      IDENTITY_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      GATEWAY_SIGNATURE_VALIDITY_SECONDS: String(validitySeconds), GATEWAY_SIGNATURE_CLOCK_SKEW_SECONDS: '0',
    });
    await service.start(60_000);

    relay = createServer((incoming, outgoing) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => {
        captured.push({ method: incoming.method ?? '', url: incoming.url ?? '', headers: incoming.headers });
        if (incoming.headers[holdHeader] !== undefined) {
          outgoing.writeHead(418, { 'content-type': 'application/json' }).end('{}');
          return;
        }
        const onward = httpRequest(`${serviceUrl}${incoming.url ?? '/'}`, { method: incoming.method, headers: incoming.headers }, (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        });
        onward.on('error', () => { outgoing.writeHead(502).end(); });
        onward.end(Buffer.concat(chunks));
      });
    });
    relay.listen(0, '127.0.0.1');
    await once(relay, 'listening');
    const relayUrl = `http://127.0.0.1:${(relay.address() as AddressInfo).port}`;

    const gatewayPort = await freePort();
    gateway = new OrderStreamProcess('gateway', ['--role', 'gateway'], {
      ...shared, PORT: String(gatewayPort), GATEWAY_UPSTREAMS: `*=${relayUrl}`,
      RATE_LIMIT_BURST: '100000', RATE_LIMIT_PER_SECOND: '100000', AUTH_RATE_LIMIT_BURST: '1000', AUTH_RATE_LIMIT_PER_SECOND: '1000',
    });
    await gateway.start(60_000);
    shape = { baseUrl: `http://127.0.0.1:${gatewayPort}`, databaseOf: () => database.db, processes: new Map([['service', service], ['gateway', gateway]]), stop: () => Promise.resolve() };
    admin = await signIn(shape, 'admin-replay@example.com', { admin: true });
  });

  after(async () => {
    // Unset when `before` failed part-way; the rest must still be cleaned up.
    for (const child of [gateway, service] as (OrderStreamProcess | undefined)[]) await child?.stop('SIGKILL');
    relay.closeAllConnections();
    relay.close();
    await database.drop();
    await rm(documents, { recursive: true, force: true });
  });

  /** The captured statement of the last request to `url`. */
  function lastTo(url: string): Record<string, string> {
    const request = captured.findLast((entry) => entry.url === url);
    assert.ok(request !== undefined, `a request to ${url} was captured`);
    return {
      [principalHeader]: String(request.headers[principalHeader]),
      [signatureHeader]: String(request.headers[signatureHeader]),
      'x-request-id': String(request.headers['x-request-id']),
    };
  }

  /** Sends `headers` (a captured pair) straight to the service, bypassing gateway and relay. */
  async function replay(method: string, url: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; type: string }> {
    const response = await fetch(`${serviceUrl}${url}`, {
      method, headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const problem = await response.json() as { type?: string };
    return { status: response.status, type: problem.type ?? '' };
  }

  const refusalReasons = () => service.logged('request without a valid gateway signature refused').map((line) => line.reason);

  /** The reasons the service logged for its refusals since `from`; a line may reach this test through the pipe a moment after the answer. */
  async function reasonsSince(from: number, expected: number): Promise<unknown[]> {
    const deadline = Date.now() + 5000;
    while (refusalReasons().length - from < expected && Date.now() < deadline) await sleep(50);
    return refusalReasons().slice(from);
  }

  test('when an admin read passes the gateway, then it is served; when its header pair is replayed to the service as it was or as another method, path and body, then each is refused 401 and nothing changes', async () => {
    const listed = await call(shape, 'GET', '/v1/admin/webhooks', { token: admin });
    assert.equal(listed.status, 200);
    const pair = lastTo('/v1/admin/webhooks');
    const before = refusalReasons().length;

    const answers = [
      await replay('GET', '/v1/admin/webhooks', pair),
      await replay('POST', '/v1/products', pair, { sku: 'REPLAYED-1', name: 'Replayed', price: { amount: 100, currency: 'EUR' } }),
      await replay('PUT', '/v1/inventory/REPLAYED-1', pair, { onHand: 1000 }),
      await replay('POST', '/v1/admin/webhooks', pair, { url: 'https://hooks.example.com/replayed', events: ['orders.placed'] }),
    ];
    assert.deepEqual(answers, Array.from({ length: 4 }, () => ({ status: 401, type: 'https://orderstream.dev/problems/gateway-required' })));
    assert.deepEqual(await reasonsSince(before, 4), ['replayed', 'other-method', 'other-method', 'other-method']);

    assert.equal((await call(shape, 'GET', '/v1/products/REPLAYED-1')).status, 404);
    assert.equal((await call(shape, 'GET', '/v1/inventory/REPLAYED-1', { token: admin })).status, 404);
    assert.deepEqual(await call(shape, 'GET', '/v1/admin/webhooks', { token: admin }).then((answer) => answer.body), listed.body);
  });

  test('when a statement taken off the link is sent with another body, a second time, or after the validity window, then the service refuses it 401; sent once as signed within the window, it is served', async () => {
    const product = { sku: 'HELD-1', name: 'Held', price: { amount: 100, currency: 'EUR' } };
    assert.equal((await call(shape, 'POST', '/v1/products', { token: admin, headers: { [holdHeader]: '1' }, body: product })).status, 418);
    const write = lastTo('/v1/products');
    const before = refusalReasons().length;
    assert.equal((await replay('POST', '/v1/products', write, { ...product, price: { amount: 1, currency: 'EUR' } })).status, 401);

    assert.equal((await call(shape, 'GET', '/v1/admin/webhooks', { token: admin, headers: { [holdHeader]: '1' } })).status, 418);
    const read = lastTo('/v1/admin/webhooks');
    assert.equal((await fetch(`${serviceUrl}/v1/admin/webhooks`, { headers: read })).status, 200);
    assert.equal((await replay('GET', '/v1/admin/webhooks', read)).status, 401);

    assert.equal((await call(shape, 'GET', '/v1/admin/webhooks', { token: admin, headers: { [holdHeader]: '1' } })).status, 418);
    const late = lastTo('/v1/admin/webhooks');
    await sleep((validitySeconds + 1.2) * 1000);
    assert.equal((await replay('GET', '/v1/admin/webhooks', late)).status, 401);
    assert.deepEqual(await reasonsSince(before, 3), ['other-body', 'replayed', 'stale']);
    assert.equal((await call(shape, 'GET', '/v1/products/HELD-1')).status, 404);

    // The normal path is unaffected.
    assert.equal((await call(shape, 'POST', '/v1/products', { token: admin, body: { ...product, sku: 'SERVED-1' } })).status, 201);
    assert.equal((await call(shape, 'PUT', '/v1/inventory/SERVED-1', { token: admin, body: { onHand: 3 } })).status, 200);
  });

  test('when an import is streamed through the gateway, then the service accepts its statement once; replayed with another file, of another length or the same, it is refused 401', async () => {
    const upload = (csv: string) => ({
      'content-type': 'multipart/form-data; boundary=orderstream-test-boundary',
      body: Buffer.from(`--orderstream-test-boundary\r\nContent-Disposition: form-data; name="file"; filename="products.csv"\r\nContent-Type: text/csv\r\n\r\n${csv}\r\n--orderstream-test-boundary--\r\n`),
    });
    const header = 'sku,name,description,price,currency,stock\n';
    const sent = upload(`${header}IMPORT-1,Imported,From a file,12.50,EUR,5\n`);
    const accepted = await fetch(`${shape.baseUrl}/v1/imports`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': sent['content-type'] }, body: sent.body });
    assert.equal(accepted.status, 202, await accepted.text());
    const pair = lastTo('/v1/imports');
    const before = refusalReasons().length;
    for (const csv of [`${header}IMPORT-2,Longer evil name,From a file,12.50,EUR,5\n`, `${header}IMPORT-2,Evilness,From a file,12.50,EUR,5\n`]) {
      const other = upload(csv);
      const replayed = await fetch(`${serviceUrl}/v1/imports`, { method: 'POST', headers: { ...pair, 'content-type': other['content-type'] }, body: other.body });
      assert.equal(replayed.status, 401);
      await replayed.body?.cancel();
    }
    assert.deepEqual(await reasonsSince(before, 2), ['other-length', 'replayed']);
  });
});
