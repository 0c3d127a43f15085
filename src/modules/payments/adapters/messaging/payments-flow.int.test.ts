import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { BackgroundTask } from '../../../../platform/background/background-loop.ts';
import type { Database } from '../../../../platform/database/database.ts';
import { createLogger } from '../../../../platform/logging/logger.ts';
import {
  appendToOutbox, createEnvelope, createMessaging, InProcessTransport, messagingMigrations,
  type Envelope, type Messaging,
} from '../../../../platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import { SimulatedPaymentProvider } from '../providers/simulated-payment-provider.ts';
import { createPaymentsModule, paymentsMessages, paymentsMigrations, type AuthorizePaymentV1 } from '../../index.ts';
import { anAuthorizeCommand } from '../../testing/payment-builders.ts';
import { RecordingPaymentProvider } from '../../testing/recording-payment-provider.ts';

/**
 * Payments end to end within the module: commands go through the real outbox, relay, in-process
 * transport and inbox into PostgreSQL; the worker calls the simulated provider; events come out
 * through the outbox to a collecting consumer.
 */
let db: Database;
let drop: () => Promise<void>;
let transport: InProcessTransport;
let messaging: Messaging;
let background: BackgroundTask[];
let provider: RecordingPaymentProvider;
const received: Envelope[] = [];

before(async () => {
  const created = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, paymentsMigrations]);
  ({ db, drop } = created);
  const logger = createLogger({ level: 'silent' });
  transport = new InProcessTransport();
  messaging = createMessaging({ db, transport, logger, retryPolicy: { maxAttempts: 5, baseDelayMs: 20 }, pollIntervalMs: 100, listenUrl: created.url });
  // tok_slow outlasts the lease twice over: only the worker's lease renewal keeps it from being claimed again.
  provider = new RecordingPaymentProvider(new SimulatedPaymentProvider({ delayMs: 2000 }));
  const payments = createPaymentsModule({
    db, logger, provider: 'simulated', simulatedDelayMs: 2000,
    maxAttempts: 4, retryBaseMs: 20, workerIntervalMs: 50, operationLeaseMs: 900, paymentProvider: provider,
  });
  for (const consumer of payments.consumers) messaging.register(consumer);
  const eventTypes = [paymentsMessages.authorized, paymentsMessages.declined, paymentsMessages.captured, paymentsMessages.captureFailed, paymentsMessages.voided, paymentsMessages.refunded];
  messaging.register({
    name: 'test.payments-events', types: eventTypes.map((message) => message.type),
    handle: (envelope) => { received.push(envelope); return Promise.resolve(); },
  });
  background = payments.background;
  await messaging.start();
});
after(async () => {
  await Promise.all(background.map((task) => task.stop()));
  await messaging.stop();
  await drop();
});

function startWorker(): void {
  for (const task of background) task.start();
}

async function send(type: string, payload: { orderId: string; [field: string]: unknown }): Promise<Envelope> {
  const envelope = createEnvelope({ type, version: 1, key: payload.orderId, payload });
  await db.transaction().execute((transaction) => appendToOutbox(transaction, [envelope]));
  return envelope;
}
const authorize = (command: AuthorizePaymentV1) => send(paymentsMessages.authorizePayment.type, { ...command });
const capture = (orderId: string) => send(paymentsMessages.capturePayment.type, { orderId });
const voidPayment = (orderId: string) => send(paymentsMessages.voidPayment.type, { orderId, reason: 'order-cancelled' });
const refund = (orderId: string) => send(paymentsMessages.refundPayment.type, { orderId, reason: 'customer-cancelled' });

const eventsOf = (orderId: string) => received.filter((envelope) => envelope.key === orderId);
const typesOf = (orderId: string) => eventsOf(orderId).map((envelope) => envelope.type);

async function until<T>(probe: () => T | undefined | Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const eventOf = (orderId: string, type: string) => until(() => eventsOf(orderId).find((envelope) => envelope.type === type), `${type} of ${orderId}`);

/** Waits until no operation of the order is pending, so nothing more can happen to it. */
async function settled(orderId: string): Promise<void> {
  await until(async () => {
    const pending = await sql<{ count: number }>`
      select count(*)::int as count from payments.operations where order_id = ${orderId} and status = 'pending'`.execute(db);
    const unsent = await sql<{ count: number }>`select count(*)::int as count from messaging.outbox where key = ${orderId} and sent_at is null`.execute(db);
    return pending.rows[0]?.count === 0 && unsent.rows[0]?.count === 0 ? true : undefined;
  }, `the operations of ${orderId} to finish`);
}

async function providerCalls(orderId: string): Promise<{ operation: string; outcome: string; idempotency_key: string }[]> {
  return (await sql<{ operation: string; outcome: string; idempotency_key: string }>`
    select operation, outcome, idempotency_key from payments.provider_calls where order_id = ${orderId} order by id`.execute(db)).rows;
}

async function paymentStatus(orderId: string): Promise<string | undefined> {
  return (await sql<{ status: string }>`select status from payments.payments where order_id = ${orderId}`.execute(db)).rows[0]?.status;
}

describe('payments through PostgreSQL and messaging', () => {
  test('when an authorisation command is handled, then only an operation is recorded; the provider is called by the worker', async () => {
    const command = anAuthorizeCommand();
    await authorize(command);
    await until(async () => (await sql<{ id: number }>`select id from payments.operations where order_id = ${command.orderId}`.execute(db)).rows[0], 'the operation');
    assert.deepEqual(provider.callsFor(command.orderId), [], 'no provider call inside the message handling');
    startWorker();
    await eventOf(command.orderId, paymentsMessages.authorized.type);
  });

  test('when tok_visa is authorised, then payments.authorized carries the payment id and amount and the payment is authorized', async () => {
    const command = anAuthorizeCommand({ amount: { amount: 1234, currency: 'EUR' } });
    await authorize(command);
    const event = await eventOf(command.orderId, paymentsMessages.authorized.type);
    const payload = event.payload as { orderId: string; paymentId: string; amount: unknown };
    assert.equal(payload.orderId, command.orderId);
    assert.match(payload.paymentId, /^pay_/);
    assert.deepEqual(payload.amount, { amount: 1234, currency: 'EUR' });
    assert.equal(await paymentStatus(command.orderId), 'authorized');
  });

  const declines = [['tok_declined', 'card-declined'], ['tok_insufficient_funds', 'insufficient-funds']] as const;
  for (const [token, reason] of declines) {
    test(`when ${token} is authorised, then payments.declined says ${reason} and a capture fails without reaching the provider`, async () => {
      const command = anAuthorizeCommand({ token });
      await authorize(command);
      const declined = await eventOf(command.orderId, paymentsMessages.declined.type);
      assert.deepEqual(declined.payload, { orderId: command.orderId, reason });
      await capture(command.orderId);
      await eventOf(command.orderId, paymentsMessages.captureFailed.type);
      await settled(command.orderId);
      assert.deepEqual(provider.callsFor(command.orderId), ['authorize']);
      assert.equal(typesOf(command.orderId).includes(paymentsMessages.captured.type), false);
      assert.equal(await paymentStatus(command.orderId), 'declined');
    });
  }

  test('when tok_flaky fails the first time, then it is authorised after a retry with the same idempotency key', async () => {
    const command = anAuthorizeCommand({ token: 'tok_flaky' });
    await authorize(command);
    await eventOf(command.orderId, paymentsMessages.authorized.type);
    const key = `${command.orderId}:authorize`;
    assert.deepEqual(await providerCalls(command.orderId), [
      { operation: 'authorize', outcome: 'transient-error', idempotency_key: key },
      { operation: 'authorize', outcome: 'authorized', idempotency_key: key },
    ]);
    assert.deepEqual(typesOf(command.orderId), [paymentsMessages.authorized.type]);
  });

  test('when the capture command arrives twice (redelivered, and sent again), then the money is captured once', async () => {
    const command = anAuthorizeCommand();
    await authorize(command);
    await eventOf(command.orderId, paymentsMessages.authorized.type);
    const first = await capture(command.orderId);
    await transport.publish([{ topic: 'orderstream.payments.v1', envelope: first }]);
    await capture(command.orderId);
    await eventOf(command.orderId, paymentsMessages.captured.type);
    await settled(command.orderId);
    assert.deepEqual(provider.callsFor(command.orderId), ['authorize', 'capture']);
    assert.deepEqual(typesOf(command.orderId), [paymentsMessages.authorized.type, paymentsMessages.captured.type]);
    assert.equal(await paymentStatus(command.orderId), 'captured');
  });

  test('when the order voids while a slow authorisation (longer than the lease) is still running, then the authorisation finishes first, once, and the hold is released', async () => {
    const command = anAuthorizeCommand({ token: 'tok_slow' });
    await authorize(command);
    await until(() => (provider.callsFor(command.orderId).length > 0 ? true : undefined), 'the slow authorisation to start');
    await voidPayment(command.orderId);
    await eventOf(command.orderId, paymentsMessages.voided.type);
    assert.deepEqual(typesOf(command.orderId), [paymentsMessages.authorized.type, paymentsMessages.voided.type]);
    assert.deepEqual((await providerCalls(command.orderId)).map((call) => [call.operation, call.idempotency_key]), [
      ['authorize', `${command.orderId}:authorize`], ['void', `${command.orderId}:void`],
    ]);
    assert.equal(await paymentStatus(command.orderId), 'voided');
  });

  test('when a captured payment is refunded, then payments.refunded carries the amount', async () => {
    const command = anAuthorizeCommand({ amount: { amount: 999, currency: 'EUR' } });
    await authorize(command);
    await eventOf(command.orderId, paymentsMessages.authorized.type);
    await capture(command.orderId);
    await eventOf(command.orderId, paymentsMessages.captured.type);
    await refund(command.orderId);
    const refunded = await eventOf(command.orderId, paymentsMessages.refunded.type);
    assert.deepEqual(refunded.payload, { orderId: command.orderId, amount: { amount: 999, currency: 'EUR' } });
    assert.deepEqual(provider.callsFor(command.orderId), ['authorize', 'capture', 'refund']);
    assert.equal(await paymentStatus(command.orderId), 'refunded');
  });

  test('when all is done, then every provider call made is in the provider-calls log, with its key', async () => {
    const orderIds = [...new Set(provider.calls.map((call) => call.orderId))];
    for (const orderId of orderIds) await settled(orderId);
    const logged = (await sql<{ order_id: string; operation: string; idempotency_key: string }>`
      select order_id, operation, idempotency_key from payments.provider_calls order by id`.execute(db)).rows;
    const made = provider.calls.map((call) => `${call.orderId} ${call.call} ${call.idempotencyKey}`).sort();
    assert.ok(made.length >= 10, `expected the calls of the tests above, got ${made.length}`);
    assert.deepEqual(logged.map((row) => `${row.order_id} ${row.operation} ${row.idempotency_key}`).sort(), made);
  });
});
