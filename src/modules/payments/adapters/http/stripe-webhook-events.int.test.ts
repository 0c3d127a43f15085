import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import Stripe from 'stripe';
import type { BackgroundTask } from '../../../../platform/background/background-loop.ts';
import type { Database } from '../../../../platform/database/database.ts';
import { createHttpApp, type HttpApp } from '../../../../platform/http/app.ts';
import { createLogger } from '../../../../platform/logging/logger.ts';
import {
  appendToOutbox, createEnvelope, createMessaging, InProcessTransport, messagingMigrations, type Messaging,
} from '../../../../platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import { createPaymentsModule, paymentsMessages, paymentsMigrations } from '../../index.ts';
import { anAuthorizeCommand } from '../../testing/payment-builders.ts';
import { startStripeStub, stubPaymentMethods, type StripeStub } from '../../testing/stripe-stub-server.ts';
import { stripeWebhookPath } from './stripe-webhook-routes.ts';

/**
 * Stripe webhook events applied to payments: the module runs against the local Stripe stub, whose
 * events are delivered, signed, to the webhook route over HTTP; integration events are read from
 * the outbox, where the orders saga would receive them.
 */
const secret = 'whsec_test_orderstream_events';
let db: Database;
let drop: () => Promise<void>;
let stub: StripeStub;
let app: HttpApp;
let messaging: Messaging;
let background: BackgroundTask[];

before(async () => {
  const created = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, paymentsMigrations]);
  ({ db, drop } = created);
  const logger = createLogger({ level: 'silent' });
  stub = await startStripeStub();
  messaging = createMessaging({ db, transport: new InProcessTransport(), logger, retryPolicy: { maxAttempts: 5, baseDelayMs: 20 }, pollIntervalMs: 100, listenUrl: created.url });
  // A retry a minute away: a capture whose answer is lost stays unanswered unless the webhook answers it.
  const payments = createPaymentsModule({
    db, logger, provider: 'stripe', simulatedDelayMs: 0, stripeApiKey: 'sk_test_stub_key', stripeApiBaseUrl: stub.url, stripeWebhookSecret: secret,
    maxAttempts: 5, retryBaseMs: 60_000, workerIntervalMs: 50,
  });
  assert.ok(payments.routes);
  for (const consumer of payments.consumers) messaging.register(consumer);
  background = payments.background;
  app = createHttpApp({ logger, bodyLimit: 64 * 1024, readiness: [], routes: [payments.routes] });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  stub.sendWebhooksTo(`${address}${stripeWebhookPath}`, secret);
  await messaging.start();
  for (const task of background) task.start();
});
after(async () => {
  await Promise.all(background.map((task) => task.stop()));
  await messaging.stop();
  await app.close();
  await stub.close();
  await drop();
});

async function send(type: string, payload: { orderId: string; [field: string]: unknown }): Promise<void> {
  await db.transaction().execute((transaction) => appendToOutbox(transaction, [createEnvelope({ type, version: 1, key: payload.orderId, payload })]));
}

async function until<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const eventTypes = async (orderId: string) => (await sql<{ type: string }>`
  select type from messaging.outbox where key = ${orderId} and type like 'payments.%' and type not like 'payments.%-payment' order by position`.execute(db)).rows.map((row) => row.type);

const paymentOf = async (orderId: string) => (await sql<{ status: string; provider_payment_id: string | null }>`
  select status, provider_payment_id from payments.payments where order_id = ${orderId}`.execute(db)).rows[0];

const operationOf = async (orderId: string, kind: string) => (await sql<{ status: string; outcome: string | null; detail: string | null }>`
  select status, outcome, detail from payments.operations where order_id = ${orderId} and kind = ${kind}`.execute(db)).rows[0];

const captureCalls = async (orderId: string) => (await sql<{ outcome: string }>`
  select outcome from payments.provider_calls where order_id = ${orderId} and operation = 'capture' order by id`.execute(db)).rows.map((row) => row.outcome);

async function authorizedOrder(): Promise<{ orderId: string; providerPaymentId: string }> {
  const command = anAuthorizeCommand({ token: stubPaymentMethods.visa });
  await send(paymentsMessages.authorizePayment.type, { ...command });
  const providerPaymentId = await until(async () => {
    const payment = await paymentOf(command.orderId);
    return payment?.status === 'authorized' ? payment.provider_payment_id ?? undefined : undefined;
  }, 'the authorisation');
  await stub.deliveries();
  return { orderId: command.orderId, providerPaymentId };
}

/** Posts a Stripe event as Stripe would, signed with the webhook secret. */
async function post(event: { id: string; type: string; data: { object: unknown } }): Promise<{ status: number; body: { duplicate: boolean; applied: boolean } }> {
  const payload = JSON.stringify({ object: 'event', api_version: '2025-01-01', created: Math.floor(Date.now() / 1000), livemode: false, ...event });
  const response = await app.inject({
    method: 'POST', url: stripeWebhookPath, payload,
    headers: { 'content-type': 'application/json', 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret }) },
  });
  return { status: response.statusCode, body: response.json() };
}

describe('Stripe webhook events applied to payments', () => {
  test('when Stripe captures but the answer to our capture call is lost, then payment_intent.succeeded captures the payment with exactly one payments.captured', async () => {
    const { orderId, providerPaymentId } = await authorizedOrder();
    stub.loseAnswersTo(/\/capture$/);
    try {
      await send(paymentsMessages.capturePayment.type, { orderId });
      await until(async () => ((await operationOf(orderId, 'capture'))?.status === 'done' ? true : undefined), 'the capture to be settled');
      await stub.deliveries();
      await until(async () => (await captureCalls(orderId)).length > 0 || undefined, 'the lost capture call to be recorded');
    } finally {
      stub.loseAnswersTo(undefined);
    }
    assert.deepEqual(await captureCalls(orderId), ['transient-error'], 'the capture call itself never got an answer');
    const succeeded = stub.events.filter((event) => event.type === 'payment_intent.succeeded' && event.object.id === providerPaymentId);
    assert.deepEqual(succeeded.map((event) => event.deliveryStatus), [200]);
    assert.equal((await paymentOf(orderId))?.status, 'captured');
    const operation = await operationOf(orderId, 'capture');
    assert.equal(operation?.outcome, 'captured');
    assert.match(operation.detail ?? '', /payment_intent\.succeeded/);
    assert.deepEqual(await eventTypes(orderId), ['payments.authorized', 'payments.captured']);
  });

  test('when the same event id arrives again, or a new event repeats a state the payment reached, then nothing changes', async () => {
    const { orderId, providerPaymentId } = await authorizedOrder();
    await send(paymentsMessages.capturePayment.type, { orderId });
    await until(async () => ((await operationOf(orderId, 'capture'))?.status === 'done' ? true : undefined), 'the capture');
    await stub.deliveries();
    const delivered = stub.events.find((event) => event.type === 'payment_intent.succeeded' && event.object.id === providerPaymentId);
    assert.ok(delivered);
    assert.equal(delivered.deliveryStatus, 200);
    const resent = await post({ id: delivered.id, type: delivered.type, data: { object: delivered.object } });
    assert.deepEqual([resent.status, resent.body.duplicate, resent.body.applied], [200, true, false]);
    const repeated = await post({ id: `evt_repeat_${orderId}`, type: 'payment_intent.succeeded', data: { object: delivered.object } });
    assert.deepEqual([repeated.status, repeated.body.duplicate, repeated.body.applied], [200, false, false]);
    assert.equal((await paymentOf(orderId))?.status, 'captured');
    assert.deepEqual(await eventTypes(orderId), ['payments.authorized', 'payments.captured']);
  });

  test('when an event names a payment intent payments does not know, then it is recorded and ignored', async () => {
    const outboxBefore = (await sql<{ count: number }>`select count(*)::int as count from messaging.outbox`.execute(db)).rows[0]?.count;
    const eventId = `evt_unknown_${Date.now()}`;
    const response = await post({ id: eventId, type: 'payment_intent.succeeded', data: { object: { id: 'pi_nobody_knows', object: 'payment_intent', status: 'succeeded', metadata: {} } } });
    assert.deepEqual([response.status, response.body.duplicate, response.body.applied], [200, false, false]);
    const recorded = await sql<{ type: string }>`select type from payments.webhook_events where event_id = ${eventId}`.execute(db);
    assert.deepEqual(recorded.rows.map((row) => row.type), ['payment_intent.succeeded']);
    assert.equal((await sql<{ count: number }>`select count(*)::int as count from messaging.outbox`.execute(db)).rows[0]?.count, outboxBefore);
  });

  test('when Stripe refunds a captured payment, then charge.refunded marks it refunded with one payments.refunded', async () => {
    const { orderId } = await authorizedOrder();
    await send(paymentsMessages.capturePayment.type, { orderId });
    await until(async () => ((await paymentOf(orderId))?.status === 'captured' ? true : undefined), 'the capture');
    await send(paymentsMessages.refundPayment.type, { orderId, reason: 'customer-cancelled' });
    await until(async () => ((await operationOf(orderId, 'refund'))?.status === 'done' ? true : undefined), 'the refund');
    await stub.deliveries();
    assert.equal((await paymentOf(orderId))?.status, 'refunded');
    assert.deepEqual(await eventTypes(orderId), ['payments.authorized', 'payments.captured', 'payments.refunded']);
  });
});
