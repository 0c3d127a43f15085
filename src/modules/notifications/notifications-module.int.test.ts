import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { auditMigrations } from '../../platform/audit/index.ts';
import type { BackgroundTask } from '../../platform/background/background-loop.ts';
import type { Database } from '../../platform/database/database.ts';
import { createHttpApp, type HttpApp } from '../../platform/http/app.ts';
import { createLogger } from '../../platform/logging/logger.ts';
import {
  appendToOutbox, createMessaging, InProcessTransport, messagingMigrations, type Envelope, type Messaging,
} from '../../platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../platform/testing/test-database.ts';
import { createNotificationsModule, notificationsMigrations } from './index.ts';
import { loadDocumentedVerifier, type VerifySignature } from './testing/documented-signature-recipe.ts';
import { decodeQuotedPrintable } from './testing/local-smtp-server.ts';
import { anOrderCancelled, anOrderConfirmed, orderCancelledEnvelope, orderConfirmedEnvelope } from './testing/order-event-builders.ts';
import { startWebhookReceiver } from './testing/webhook-receiver.ts';

const maxAttempts = 3;
let db: Database;
let drop: () => Promise<void>;
let app: HttpApp;
let transport: InProcessTransport;
let messaging: Messaging;
let background: BackgroundTask[];
let mailFolder: string;
let verify: VerifySignature;
const cleanups: (() => Promise<void>)[] = [];

before(async () => {
  ({ db, drop } = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, auditMigrations, notificationsMigrations]));
  mailFolder = await mkdtemp(path.join(tmpdir(), 'orderstream-mail-'));
  verify = await loadDocumentedVerifier();
  const logger = createLogger({ level: 'silent' });
  const notifications = createNotificationsModule({
    db, logger, email: { transport: 'file', outboxDir: mailFolder }, emailFrom: 'OrderStream <orders@orderstream.test>',
    maxAttempts, retryBaseMs: 20, webhookTimeoutMs: 5000, workerIntervalMs: 50,
    // The receivers listen on loopback, which webhooks may not reach unless allowed.
    webhookAllowedNetworks: ['127.0.0.1/32'],
  });
  transport = new InProcessTransport();
  messaging = createMessaging({ db, transport, logger, retryPolicy: { maxAttempts: 3, baseDelayMs: 20 }, pollIntervalMs: 1000 });
  for (const consumer of notifications.consumers) messaging.register(consumer);
  background = notifications.background;
  for (const task of background) task.start();
  app = createHttpApp({ logger, bodyLimit: 16 * 1024, routes: [notifications.routes], readiness: [] });
  await app.ready();
});
afterEach(async () => {
  for (let cleanup = cleanups.pop(); cleanup !== undefined; cleanup = cleanups.pop()) await cleanup();
});
after(async () => {
  await Promise.all(background.map((task) => task.stop()));
  await app.close();
  await drop();
  await rm(mailFolder, { recursive: true, force: true });
});

/** An endpoint registered through the admin API, receiving on a local server; both go away after the test. */
async function aSubscribedReceiver(options: Parameters<typeof startWebhookReceiver>[0] = {}) {
  const receiver = await startWebhookReceiver(options);
  const response = await app.inject({ method: 'POST', url: '/v1/admin/webhooks', payload: { url: receiver.url, events: ['orders.confirmed', 'orders.cancelled'] } });
  assert.equal(response.statusCode, 201, response.body);
  const endpoint = response.json<{ id: string; secret: string }>();
  cleanups.push(async () => {
    await app.inject({ method: 'DELETE', url: `/v1/admin/webhooks/${endpoint.id}` });
    await receiver.close();
  });
  return { receiver, endpoint };
}

/** Publishes an event the way orders will: outbox row in a transaction, then the relay. */
async function publishThroughOutbox(envelope: Envelope): Promise<void> {
  await db.transaction().execute((transaction) => appendToOutbox(transaction, [envelope]));
  await messaging.relay.relayOnce();
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function deliveryOf(orderId: string, channel: 'email' | 'webhook') {
  const result = await sql<{ id: string; status: string; attempts: number }>`
    select d.id, d.status, d.attempts from notifications.deliveries d join notifications.events e on e.id = d.event_id
    where e.order_id = ${orderId} and d.channel = ${channel}`.execute(db);
  return result.rows;
}

async function announced(orderId: string, type: string): Promise<{ channel: string; deliveryId: string }[]> {
  const result = await sql<{ payload: { channel: string; deliveryId: string } }>`
    select payload from messaging.outbox where key = ${orderId} and type = ${type} order by position`.execute(db);
  return result.rows.map((row) => row.payload);
}

async function emailsFor(orderId: string): Promise<string[]> {
  const files = (await readdir(mailFolder)).filter((file) => file.endsWith('.eml'));
  const texts = await Promise.all(files.map(async (file) => decodeQuotedPrintable(await readFile(path.join(mailFolder, file), 'utf8'))));
  return texts.filter((text) => text.includes(`Subject: Your order ${orderId} `));
}

describe('notifications end to end', () => {
  test('when the same order event is delivered twice and announced again under another message id, then one email and one webhook go out', async () => {
    const { receiver } = await aSubscribedReceiver();
    const payload = anOrderConfirmed();
    const first = orderConfirmedEnvelope(payload);
    await publishThroughOutbox(first);
    await transport.publish([{ topic: 'orderstream.orders.v1', envelope: first }]);
    await publishThroughOutbox(orderConfirmedEnvelope(payload));
    await waitFor('both deliveries announced', async () => ((await announced(payload.orderId, 'notifications.delivered')).length >= 2 ? true : undefined));
    assert.equal(receiver.received.length, 1);
    assert.equal((JSON.parse(receiver.received[0]?.rawBody ?? '{}') as { id: string }).id, first.id);
    const emails = await emailsFor(payload.orderId);
    assert.equal(emails.length, 1);
    assert.match(emails[0] ?? '', new RegExp(`^To: ${payload.customer.email.replace('.', '\\.')}$`, 'm'));
    assert.deepEqual((await announced(payload.orderId, 'notifications.delivered')).map((event) => event.channel).sort(), ['email', 'webhook']);
  });

  test('when the receiver fails twice and then answers 200, then the webhook is delivered on the third attempt, each attempt signed', async () => {
    const { receiver, endpoint } = await aSubscribedReceiver({ script: [500, 503] });
    const envelope = orderConfirmedEnvelope();
    await publishThroughOutbox(envelope);
    const orderId = envelope.payload.orderId;
    const [sent] = await waitFor('the webhook delivery to be sent', async () => {
      const rows = await deliveryOf(orderId, 'webhook');
      return rows[0]?.status === 'sent' ? rows : undefined;
    });
    assert.equal(sent?.attempts, 3);
    assert.equal(receiver.received.length, 3);
    assert.ok(receiver.received.every((request) => verify(endpoint.secret, request.headers['orderstream-signature'], request.rawBody)));
    assert.ok(receiver.received.every((request) => request.headers['orderstream-event-id'] === envelope.id));
    await waitFor('the webhook announced', async () => ((await announced(orderId, 'notifications.delivered')).some((event) => event.channel === 'webhook') ? true : undefined));
  });

  test('when the receiver always fails, then the delivery is dead and notifications.failed is emitted; after the retry endpoint, it is delivered', async () => {
    const { receiver } = await aSubscribedReceiver({ otherwise: 500 });
    const envelope = orderCancelledEnvelope();
    const orderId = envelope.payload.orderId;
    await publishThroughOutbox(envelope);
    const failed = await waitFor('notifications.failed', async () => {
      const events = await announced(orderId, 'notifications.failed');
      return events.length > 0 ? events : undefined;
    });
    assert.deepEqual(failed.map((event) => event.channel), ['webhook']);
    assert.equal(receiver.received.length, maxAttempts);
    const dead = (await app.inject({ method: 'GET', url: '/v1/admin/webhook-deliveries?status=dead&limit=100' })).json<{ items: { id: string; orderId: string; lastError: string }[] }>()
      .items.find((item) => item.orderId === orderId);
    assert.equal(dead?.id, failed[0]?.deliveryId);
    assert.equal(dead?.lastError, 'answered 5xx');

    receiver.answerWith(204);
    const retried = await app.inject({ method: 'POST', url: `/v1/admin/webhook-deliveries/${dead.id}/retry` });
    assert.equal(retried.statusCode, 202, retried.body);
    await waitFor('the retried webhook announced', async () => ((await announced(orderId, 'notifications.delivered')).some((event) => event.channel === 'webhook') ? true : undefined));
    assert.equal(receiver.received.length, maxAttempts + 1);
    assert.deepEqual((await deliveryOf(orderId, 'webhook')).map((row) => [row.status, row.attempts]), [['sent', 1]]);
  });

  test('when an order is cancelled with a refund, then the customer email tells the refunded amount and the webhook carries the payload', async () => {
    const { receiver } = await aSubscribedReceiver();
    const payload = anOrderCancelled({ reason: 'cancelled by the customer', refunded: { amount: 1299, currency: 'EUR' } });
    await publishThroughOutbox(orderCancelledEnvelope(payload));
    await waitFor('both deliveries announced', async () => ((await announced(payload.orderId, 'notifications.delivered')).length >= 2 ? true : undefined));
    const [email] = await emailsFor(payload.orderId);
    assert.match(email ?? '', /^Subject: Your order .* was cancelled and refunded$/m);
    assert.match(email ?? '', /We refunded €12\.99 to your original payment method\./);
    assert.deepEqual((JSON.parse(receiver.received[0]?.rawBody ?? '{}') as { data: unknown }).data, payload);
  });
});

describe('rolling an endpoint\'s signing secret', () => {
  function roll(endpointId: string, payload?: Record<string, unknown>) {
    const url = `/v1/admin/webhooks/${endpointId}/secret/roll`;
    return payload === undefined ? app.inject({ method: 'POST', url }) : app.inject({ method: 'POST', url, payload });
  }

  async function deliverOne(receiver: { received: { headers: Record<string, unknown>; rawBody: string }[] }) {
    const before = receiver.received.length;
    const envelope = orderConfirmedEnvelope();
    await publishThroughOutbox(envelope);
    await waitFor('the webhook delivery to be sent', async () => ((await deliveryOf(envelope.payload.orderId, 'webhook'))[0]?.status === 'sent' ? true : undefined));
    assert.equal(receiver.received.length, before + 1);
    const request = receiver.received.at(-1);
    assert.ok(request);
    return { signature: String(request.headers['orderstream-signature']), rawBody: request.rawBody };
  }

  test('when a secret is rolled with an overlap, then receivers verifying with the old and with the new secret both accept deliveries during it, and after it only the new one does', async () => {
    const { receiver, endpoint } = await aSubscribedReceiver();
    const rolled = await roll(endpoint.id, { overlapSeconds: 2 });
    assert.equal(rolled.statusCode, 200, rolled.body);
    const { secret: newSecret, previousSecretExpiresAt } = rolled.json<{ id: string; secret: string; previousSecretExpiresAt: string }>();
    assert.match(newSecret, /^whsec_/);
    assert.notEqual(newSecret, endpoint.secret);

    const during = await deliverOne(receiver);
    assert.match(during.signature, /^t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
    assert.equal(verify(endpoint.secret, during.signature, during.rawBody), true, 'a receiver still on the old secret accepts');
    assert.equal(verify(newSecret, during.signature, during.rawBody), true, 'a receiver already on the new secret accepts');
    assert.equal(verify('whsec_someone-else', during.signature, during.rawBody), false);

    const waitMs = Date.parse(previousSecretExpiresAt) - Date.now() + 50;
    assert.ok(waitMs <= 2100, 'the overlap asked for is the overlap given');
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
    const afterOverlap = await deliverOne(receiver);
    assert.match(afterOverlap.signature, /^t=\d+,v1=[0-9a-f]{64}$/);
    assert.equal(verify(newSecret, afterOverlap.signature, afterOverlap.rawBody), true);
    assert.equal(verify(endpoint.secret, afterOverlap.signature, afterOverlap.rawBody), false, 'the old secret no longer signs');
  });

  test('when no overlap is given, then the old secret signs for a day; with 0 it stops at once; the list never shows a secret', async () => {
    const { receiver, endpoint } = await aSubscribedReceiver();
    const byDefault = await roll(endpoint.id);
    assert.equal(byDefault.statusCode, 200, byDefault.body);
    const expiresIn = Date.parse(byDefault.json<{ previousSecretExpiresAt: string }>().previousSecretExpiresAt) - Date.now();
    assert.ok(Math.abs(expiresIn - 24 * 3600 * 1000) < 60_000, `expires in ${expiresIn} ms`);

    const second = (await roll(endpoint.id, { overlapSeconds: 0 })).json<{ secret: string; previousSecretExpiresAt: string | null }>();
    assert.equal(second.previousSecretExpiresAt, null);
    const delivered = await deliverOne(receiver);
    assert.equal(verify(second.secret, delivered.signature, delivered.rawBody), true);
    assert.equal(verify(byDefault.json<{ secret: string }>().secret, delivered.signature, delivered.rawBody), false, 'a second roll drops the secret of the first at once here');
    assert.equal(verify(endpoint.secret, delivered.signature, delivered.rawBody), false);
    const list = await app.inject({ method: 'GET', url: '/v1/admin/webhooks?limit=100' });
    assert.ok(!list.body.includes(second.secret));
  });

  test('when the endpoint is unknown or deleted, then 404; when the overlap is negative, fractional, beyond a week or not a number, then 400 and nothing changes', async () => {
    const { endpoint } = await aSubscribedReceiver();
    const stored = async () => (await sql<{ secret: string }>`select secret from notifications.webhook_endpoints where id = ${endpoint.id}`.execute(db)).rows[0]?.secret;
    for (const overlapSeconds of [-1, 1.5, 604_801, '60']) {
      const response = await roll(endpoint.id, { overlapSeconds });
      assert.equal(response.statusCode, 400, `${String(overlapSeconds)}: ${response.body}`);
      assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
    }
    assert.equal(await stored(), endpoint.secret);
    assert.equal((await roll('whe_unknown')).statusCode, 404);
    assert.equal((await app.inject({ method: 'DELETE', url: `/v1/admin/webhooks/${endpoint.id}` })).statusCode, 204);
    assert.equal((await roll(endpoint.id)).statusCode, 404);
  });
});
