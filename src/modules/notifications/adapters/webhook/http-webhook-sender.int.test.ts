import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { WebhookBody } from '../../application/ports.ts';
import { loadDocumentedVerifier, type VerifySignature } from '../../testing/documented-signature-recipe.ts';
import { startWebhookReceiver } from '../../testing/webhook-receiver.ts';
import { HttpWebhookSender } from './http-webhook-sender.ts';

const secret = 'whsec_test-secret';
const body: WebhookBody = {
  id: '0b6f3c9e-6f0e-4a43-9d1c-2f7f3b8a9c11', type: 'orders.confirmed', occurredAt: '2026-01-02T03:04:05.000Z',
  data: { orderId: 'ord_1', note: 'ünïcödé & "quotes"' },
};

let verify: VerifySignature;
before(async () => { verify = await loadDocumentedVerifier(); });

describe('HttpWebhookSender', () => {
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  before(async () => { receiver = await startWebhookReceiver({ script: [200, 200, 302] }); });
  after(async () => { await receiver.close(); });

  test('when a webhook is sent, then the receiver verifies its signature with the documented recipe and reads the event', async () => {
    await new HttpWebhookSender({ timeoutMs: 5000 }).send({ url: receiver.url, secret, body });
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
    await new HttpWebhookSender({ timeoutMs: 5000, nowSeconds: () => tenMinutesAgo }).send({ url: receiver.url, secret, body });
    const request = receiver.received.at(-1);
    assert.ok(request);
    assert.equal(verify(secret, request.headers['orderstream-signature'], request.rawBody), false);
  });

  test('when the receiver answers with a redirect, then the attempt fails and the redirect is not followed', async () => {
    const before = receiver.received.length;
    await assert.rejects(new HttpWebhookSender({ timeoutMs: 5000 }).send({ url: receiver.url, secret, body }), /answered 302/);
    assert.equal(receiver.received.length, before + 1);
  });
});

describe('HttpWebhookSender failures', () => {
  test('when the receiver answers 500, then the attempt fails naming the status', async () => {
    const receiver = await startWebhookReceiver({ otherwise: 500 });
    try {
      await assert.rejects(new HttpWebhookSender({ timeoutMs: 5000 }).send({ url: receiver.url, secret, body }), /answered 500/);
    } finally {
      await receiver.close();
    }
  });

  test('when the receiver never answers, then the attempt fails after the timeout', async () => {
    const receiver = await startWebhookReceiver({ otherwise: 'hang' });
    try {
      await assert.rejects(new HttpWebhookSender({ timeoutMs: 200 }).send({ url: receiver.url, secret, body }), /no answer within 200 ms/);
    } finally {
      await receiver.close();
    }
  });

  test('when nothing listens at the URL, then the attempt fails', async () => {
    const receiver = await startWebhookReceiver();
    await receiver.close();
    await assert.rejects(new HttpWebhookSender({ timeoutMs: 5000 }).send({ url: receiver.url, secret, body }), /request failed/);
  });
});
