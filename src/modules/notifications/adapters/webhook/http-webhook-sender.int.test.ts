import assert from 'node:assert/strict';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import type { WebhookBody } from '../../application/ports.ts';
import { watchConnections } from '../../testing/connection-guard.ts';
import { loadDocumentedVerifier, type VerifySignature } from '../../testing/documented-signature-recipe.ts';
import { aPublicAddress, testResolver } from '../../testing/test-resolver.ts';
import { startWebhookReceiver } from '../../testing/webhook-receiver.ts';
import type { ResolveHost } from './checked-lookup.ts';
import { DestinationAddressRule } from './destination-address-rule.ts';
import { DnsWebhookDestinationPolicy } from './dns-webhook-destination-policy.ts';
import { HttpWebhookSender } from './http-webhook-sender.ts';

const secret = 'whsec_test-secret';
const body: WebhookBody = {
  id: '0b6f3c9e-6f0e-4a43-9d1c-2f7f3b8a9c11', type: 'orders.confirmed', occurredAt: '2026-01-02T03:04:05.000Z',
  data: { orderId: 'ord_1', note: 'ünïcödé & "quotes"' },
};
/** The receivers of these tests listen on loopback, which only an allow-list lets webhooks reach. */
const loopbackAllowed = new DestinationAddressRule(['127.0.0.1/32']);
const senders: HttpWebhookSender[] = [];

function aSender(options: { timeoutMs?: number; rule?: DestinationAddressRule; resolveHost?: ResolveHost; nowSeconds?: () => number } = {}): HttpWebhookSender {
  const sender = new HttpWebhookSender({ timeoutMs: 5000, rule: loopbackAllowed, ...options });
  senders.push(sender);
  return sender;
}

let verify: VerifySignature;
let connections: ReturnType<typeof watchConnections>;
before(async () => { verify = await loadDocumentedVerifier(); });
beforeEach(() => { connections = watchConnections(); });
afterEach(async () => {
  connections.stop();
  assert.deepEqual(connections.blocked, [], 'no connection left loopback');
  await Promise.all(senders.splice(0).map((sender) => sender.close()));
});

/** A TCP listener on loopback that counts the connections it accepts. */
async function aCountingListener(): Promise<{ port: number; accepted: () => number; close: () => Promise<void> }> {
  let accepted = 0;
  const server = createTcpServer((socket) => { accepted += 1; socket.destroy(); });
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve); });
  return {
    port: (server.address() as AddressInfo).port,
    accepted: () => accepted,
    close: () => new Promise((resolve) => { server.close(() => { resolve(); }); }),
  };
}

describe('HttpWebhookSender', () => {
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  before(async () => { receiver = await startWebhookReceiver({ script: [200, 200, 302] }); });
  after(async () => { await receiver.close(); });

  test('when a webhook is sent, then the receiver verifies its signature with the documented recipe and reads the event', async () => {
    await aSender().send({ url: receiver.url, secrets: [secret], body });
    const request = receiver.received.at(-1);
    assert.ok(request);
    assert.equal(verify(secret, request.headers['orderstream-signature'], request.rawBody), true);
    assert.equal(verify('whsec_another-secret', request.headers['orderstream-signature'], request.rawBody), false);
    assert.equal(verify(secret, request.headers['orderstream-signature'], request.rawBody.replace('ord_1', 'ord_2')), false);
    assert.deepEqual(JSON.parse(request.rawBody), body);
    assert.equal(request.headers['orderstream-event-id'], body.id);
    assert.equal(request.headers['orderstream-event-type'], 'orders.confirmed');
    assert.equal(request.headers['content-type'], 'application/json');
    const timestamp = request.headers['orderstream-timestamp'];
    assert.match(request.headers['orderstream-signature'] as string, new RegExp(`^t=${String(timestamp)},v1=[0-9a-f]{64}$`));
  });

  test('when the signature is old, then the documented recipe refuses it', async () => {
    const tenMinutesAgo = Math.floor(Date.now() / 1000) - 600;
    await aSender({ nowSeconds: () => tenMinutesAgo }).send({ url: receiver.url, secrets: [secret], body });
    const request = receiver.received.at(-1);
    assert.ok(request);
    assert.equal(verify(secret, request.headers['orderstream-signature'], request.rawBody), false);
  });

  test('when the receiver answers with a redirect, then the attempt fails as "answered 3xx" and the redirect is not followed', async () => {
    const before = receiver.received.length;
    await assert.rejects(aSender().send({ url: receiver.url, secrets: [secret], body }), { message: 'answered 3xx' });
    assert.equal(receiver.received.length, before + 1);
  });
});

describe('HttpWebhookSender failures', () => {
  test('when the receiver answers 500 or 404, then the attempt fails naming only the status class', async () => {
    const receiver = await startWebhookReceiver({ script: [500, 404] });
    try {
      await assert.rejects(aSender().send({ url: receiver.url, secrets: [secret], body }), { message: 'answered 5xx' });
      await assert.rejects(aSender().send({ url: receiver.url, secrets: [secret], body }), { message: 'answered 4xx' });
    } finally {
      await receiver.close();
    }
  });

  test('when the receiver never answers, then the attempt fails as "timeout" after the timeout', async () => {
    const receiver = await startWebhookReceiver({ otherwise: 'hang' });
    try {
      const started = Date.now();
      await assert.rejects(aSender({ timeoutMs: 200 }).send({ url: receiver.url, secrets: [secret], body }), { message: 'timeout' });
      assert.ok(Date.now() - started < 2000);
    } finally {
      await receiver.close();
    }
  });

  test('when nothing listens at the URL, then the attempt fails as "connection failed"', async () => {
    const receiver = await startWebhookReceiver();
    await receiver.close();
    await assert.rejects(aSender().send({ url: receiver.url, secrets: [secret], body }), { message: 'connection failed' });
  });

  test('when an https URL reaches a server that does not speak TLS, then the attempt fails as "tls error"', async () => {
    const receiver = await startWebhookReceiver();
    try {
      await assert.rejects(aSender().send({ url: receiver.url.replace('http:', 'https:'), secrets: [secret], body }), { message: 'tls error' });
    } finally {
      await receiver.close();
    }
  });
});

describe('HttpWebhookSender destinations', () => {
  test('when a host name resolves to an allowed address, then the request goes to that address and Host stays the name', async () => {
    const receiver = await startWebhookReceiver();
    const { resolveHost, lookups } = testResolver({ 'hooks.shop.test': ['127.0.0.1'] });
    try {
      const port = new URL(receiver.url).port;
      await aSender({ resolveHost }).send({ url: `http://hooks.shop.test:${port}/hooks`, secrets: [secret], body });
      assert.equal(receiver.received.at(-1)?.headers.host, `hooks.shop.test:${port}`);
      assert.deepEqual(lookups, ['hooks.shop.test']);
      assert.deepEqual(connections.attempts, ['127.0.0.1']);
    } finally {
      await receiver.close();
    }
  });

  test('when an https host name resolves to an allowed address, then the TLS server name is the host name', async () => {
    const serverNames: string[] = [];
    const server = createTlsServer({ SNICallback: (name, callback) => { serverNames.push(name); callback(new Error('no certificate in this test')); } });
    await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve); });
    const { resolveHost } = testResolver({ 'hooks.shop.test': ['127.0.0.1'] });
    try {
      const { port } = server.address() as AddressInfo;
      await assert.rejects(aSender({ resolveHost }).send({ url: `https://hooks.shop.test:${String(port)}/hooks`, secrets: [secret], body }));
      assert.deepEqual(serverNames, ['hooks.shop.test']);
    } finally {
      await new Promise((resolve) => { server.close(resolve); });
    }
  });

  test('when a host name resolves to 10.0.0.1, then the attempt fails as "refused destination" at lookup, without any connection attempt', async () => {
    const { resolveHost, lookups } = testResolver({ 'hooks.shop.test': ['10.0.0.1'] });
    await assert.rejects(aSender({ resolveHost }).send({ url: 'http://hooks.shop.test/hooks', secrets: [secret], body }), { message: 'refused destination' });
    assert.deepEqual(lookups, ['hooks.shop.test']);
    assert.deepEqual(connections.attempts, []);
  });

  test('when a host name resolves to a public and an internal address, then the attempt is refused without any connection attempt', async () => {
    const { resolveHost } = testResolver({ 'hooks.shop.test': [aPublicAddress, '169.254.169.254'] });
    await assert.rejects(aSender({ resolveHost }).send({ url: 'http://hooks.shop.test/hooks', secrets: [secret], body }), { message: 'refused destination' });
    assert.deepEqual(connections.attempts, []);
  });

  test('when a host name resolves to loopback and loopback is not allowed, then a listener there sees no connection', async () => {
    const listener = await aCountingListener();
    const { resolveHost } = testResolver({ 'hooks.shop.test': ['127.0.0.1'] });
    try {
      const sender = aSender({ resolveHost, rule: new DestinationAddressRule() });
      await assert.rejects(sender.send({ url: `http://hooks.shop.test:${String(listener.port)}/hooks`, secrets: [secret], body }), { message: 'refused destination' });
      assert.equal(listener.accepted(), 0);
      assert.deepEqual(connections.attempts, []);
    } finally {
      await listener.close();
    }
  });

  test('when the URL names a loopback address literally (in any form) and loopback is not allowed, then nothing connects', async () => {
    const listener = await aCountingListener();
    try {
      const sender = aSender({ rule: new DestinationAddressRule() });
      for (const host of ['127.0.0.1', '[::ffff:127.0.0.1]', '2130706433', '0x7f.1']) {
        await assert.rejects(sender.send({ url: `http://${host}:${String(listener.port)}/hooks`, secrets: [secret], body }), { message: 'refused destination' }, host);
      }
      assert.equal(listener.accepted(), 0);
      assert.deepEqual(connections.attempts, []);
    } finally {
      await listener.close();
    }
  });

  test('when a name resolves to a public address at registration and to 127.0.0.1 when sending, then the delivery is refused and nothing connects', async () => {
    const listener = await aCountingListener();
    const { resolveHost, lookups } = testResolver({ 'rebind.shop.test': { answers: [[aPublicAddress], ['127.0.0.1']] } });
    const rule = new DestinationAddressRule();
    try {
      const url = `http://rebind.shop.test:${String(listener.port)}/hooks`;
      assert.equal(await new DnsWebhookDestinationPolicy({ rule, resolveHost, timeoutMs: 1000 }).allows(url), true);
      await assert.rejects(aSender({ resolveHost, rule }).send({ url, secrets: [secret], body }), { message: 'refused destination' });
      assert.equal(lookups.length, 2);
      assert.equal(listener.accepted(), 0);
      assert.deepEqual(connections.attempts, []);
    } finally {
      await listener.close();
    }
  });
});
