import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import { SimulatedPaymentProvider } from '../adapters/providers/simulated-payment-provider.ts';
import { InvalidPaymentError } from '../domain/payment.errors.ts';
import { InMemoryPaymentStore } from '../testing/in-memory-payment-store.ts';
import { anAuthorizeCommand, anOrderId } from '../testing/payment-builders.ts';
import { RecordingPaymentProvider } from '../testing/recording-payment-provider.ts';
import type { ProviderReport } from '../domain/payment.ts';
import { ApplyWebhookEvent, type VerifiedWebhookEvent } from './apply-webhook-event.ts';
import { RequestAuthorization } from './request-authorization.ts';
import { RequestPaymentOperation } from './request-payment-operation.ts';
import { RunPaymentOperations } from './run-payment-operations.ts';

const maxAttempts = 3;
let store: InMemoryPaymentStore;
let provider: RecordingPaymentProvider;
let logged: { level: string; details: object; message: string }[];
let failedKinds: string[];
let runner: RunPaymentOperations;

beforeEach(() => {
  store = new InMemoryPaymentStore();
  provider = new RecordingPaymentProvider(new SimulatedPaymentProvider({ delayMs: 0 }));
  logged = [];
  failedKinds = [];
  const log = (level: string) => (details: object, message: string) => { logged.push({ level, details, message }); };
  runner = new RunPaymentOperations({
    operations: store, provider, log: { info: log('info'), warn: log('warn'), error: log('error') },
    metrics: { operationFailed: (kind) => { failedKinds.push(kind); } },
    settings: { maxAttempts, retryBaseMs: 100, leaseMs: 10_000 }, now: store.now, random: () => 1,
  });
});

const authorize = (command = anAuthorizeCommand()) => new RequestAuthorization({ payments: store, now: store.now }).execute(command);
const request = (orderId: string, kind: 'capture' | 'void' | 'refund') => new RequestPaymentOperation({ payments: store }).execute(orderId, kind);

/** Runs whatever is due now, once. */
async function runDue(): Promise<number> {
  const claimed = await runner.claim(10);
  for (const operation of claimed) await runner.run(operation);
  return claimed.length;
}

/** Runs operations until none is pending, letting the clock pass for retries. */
async function drain(): Promise<void> {
  for (let round = 0; round < 50; round += 1) {
    if ((await runDue()) > 0) continue;
    if (!store.operations.some((operation) => operation.status === 'pending')) return;
    store.advance(60_000);
  }
  assert.fail('operations did not finish');
}

const published = (orderId: string) => store.published.filter((message) => message.key === orderId).map((message) => message.type);

describe('RequestAuthorization', () => {
  test('when the same order asks twice (even with another amount), then one payment and one authorisation are recorded', async () => {
    const command = anAuthorizeCommand();
    assert.equal(await authorize(command), 'queued');
    assert.equal(await authorize({ ...command, amount: { amount: 1, currency: 'EUR' } }), 'duplicate');
    assert.equal(store.payments.get(command.orderId)?.amount.amount, 4200);
    assert.equal(store.operations.filter((operation) => operation.orderId === command.orderId).length, 1);
  });

  test('when a void was requested before the authorisation arrived, then nothing is ever held and the provider is never called', async () => {
    const command = anAuthorizeCommand();
    await request(command.orderId, 'void');
    assert.equal(await authorize(command), 'already-cancelled');
    await drain();
    assert.equal(store.payments.get(command.orderId)?.status, 'voided');
    assert.deepEqual(provider.calls, []);
    assert.deepEqual(published(command.orderId), ['payments.voided']);
  });

  test('when the command is not valid, then it fails and nothing is recorded', async () => {
    await assert.rejects(authorize(anAuthorizeCommand({ amount: { amount: 9.99, currency: 'EUR' } })), InvalidPaymentError);
    assert.equal(store.payments.size, 0);
    assert.equal(store.operations.length, 0);
  });
});

describe('RequestPaymentOperation', () => {
  test('when a capture is asked twice for an order, then one operation is recorded', async () => {
    const orderId = anOrderId();
    assert.equal(await request(orderId, 'capture'), 'queued');
    assert.equal(await request(orderId, 'capture'), 'duplicate');
    assert.equal(store.operations.length, 1);
  });
});

describe('RunPaymentOperations', () => {
  test('when a visa authorisation runs, then authorized is published with the amount and the call is keyed by order and operation', async () => {
    const command = anAuthorizeCommand();
    await authorize(command);
    await drain();
    const message = store.published.at(-1);
    assert.equal(message?.type, 'payments.authorized');
    assert.deepEqual(message.payload.amount, { amount: 4200, currency: 'EUR' });
    assert.deepEqual(provider.calls.map((call) => call.idempotencyKey), [`${command.orderId}:authorize`]);
    assert.deepEqual(store.calls.map((call) => [call.call, call.outcome]), [['authorize', 'authorized']]);
  });

  test('when a declined payment is captured, then capture-failed follows without a capture call', async () => {
    const command = anAuthorizeCommand({ token: 'tok_declined' });
    await authorize(command);
    await request(command.orderId, 'capture');
    await drain();
    assert.deepEqual(published(command.orderId), ['payments.declined', 'payments.capture-failed']);
    assert.deepEqual(provider.callsFor(command.orderId), ['authorize']);
  });

  test('when a refund comes before any capture, then the authorisation is voided instead', async () => {
    const command = anAuthorizeCommand();
    await authorize(command);
    await request(command.orderId, 'refund');
    await drain();
    assert.deepEqual(provider.calls.map((call) => call.idempotencyKey), [`${command.orderId}:authorize`, `${command.orderId}:void`]);
    assert.deepEqual(published(command.orderId), ['payments.authorized', 'payments.voided']);
    assert.equal(store.payments.get(command.orderId)?.status, 'voided');
  });

  test('when a void comes after the capture, then the money is refunded', async () => {
    const command = anAuthorizeCommand();
    await authorize(command);
    await request(command.orderId, 'capture');
    await request(command.orderId, 'void');
    await drain();
    assert.deepEqual(provider.callsFor(command.orderId), ['authorize', 'capture', 'refund']);
    assert.deepEqual(published(command.orderId), ['payments.authorized', 'payments.captured', 'payments.refunded']);
  });

  test('when tok_flaky fails once, then the retry waits for its backoff and authorises with the same key', async () => {
    const command = anAuthorizeCommand({ token: 'tok_flaky' });
    await authorize(command);
    assert.equal(await runDue(), 1);
    assert.equal(await runDue(), 0, 'not due again before the backoff');
    store.advance(100);
    assert.equal(await runDue(), 1);
    assert.deepEqual(store.calls.map((call) => [call.outcome, call.attempt, call.idempotencyKey]), [
      ['transient-error', 1, `${command.orderId}:authorize`], ['authorized', 2, `${command.orderId}:authorize`],
    ]);
    assert.deepEqual(published(command.orderId), ['payments.authorized']);
  });

  test('when captures keep failing transiently, then after the last attempt capture-failed is published and the hold stays', async () => {
    const command = anAuthorizeCommand();
    await authorize(command);
    await request(command.orderId, 'capture');
    provider.unavailable.add('capture');
    await drain();
    assert.equal(provider.callsFor(command.orderId).filter((call) => call === 'capture').length, maxAttempts);
    assert.deepEqual(published(command.orderId), ['payments.authorized', 'payments.capture-failed']);
    assert.equal(store.payments.get(command.orderId)?.status, 'authorized');
    assert.deepEqual(provider.lookups, [command.orderId], 'the provider, still holding the authorisation, was asked before giving up');
  });

  test('when a capture takes effect but every answer is lost, then the provider is looked up and captured is published, not capture-failed', async () => {
    const command = anAuthorizeCommand();
    await authorize(command);
    await request(command.orderId, 'capture');
    provider.answersLost.add('capture');
    await drain();
    assert.deepEqual(provider.lookups, [command.orderId]);
    assert.deepEqual(published(command.orderId), ['payments.authorized', 'payments.captured']);
    assert.equal(store.payments.get(command.orderId)?.status, 'captured');
    assert.equal(store.operation(command.orderId, 'capture')?.status, 'done');
  });

  test('when a capture whose answers were lost is followed by the order giving up, then the captured money is refunded, not left held', async () => {
    const command = anAuthorizeCommand();
    await authorize(command);
    await request(command.orderId, 'capture');
    await request(command.orderId, 'refund');
    provider.answersLost.add('capture');
    await drain();
    assert.deepEqual(published(command.orderId), ['payments.authorized', 'payments.captured', 'payments.refunded']);
    assert.equal(store.payments.get(command.orderId)?.status, 'refunded');
  });

  test('when a void takes effect but every answer is lost, then it is settled as voided instead of failed', async () => {
    const command = anAuthorizeCommand();
    await authorize(command);
    await request(command.orderId, 'void');
    provider.answersLost.add('void');
    await drain();
    assert.equal(store.operation(command.orderId, 'void')?.status, 'done');
    assert.deepEqual(published(command.orderId), ['payments.authorized', 'payments.voided']);
    assert.deepEqual(failedKinds, [], 'a void that took effect is not counted failed');
  });

  test('when a refund takes effect but every answer is lost, then it is settled as refunded instead of failed', async () => {
    const command = anAuthorizeCommand();
    await authorize(command);
    await request(command.orderId, 'capture');
    await drain();
    await request(command.orderId, 'refund');
    provider.answersLost.add('refund');
    await drain();
    assert.equal(store.operation(command.orderId, 'refund')?.status, 'done');
    assert.deepEqual(published(command.orderId), ['payments.authorized', 'payments.captured', 'payments.refunded']);
  });

  test('when authorisations keep failing transiently, then the payment is declined as provider-error', async () => {
    const command = anAuthorizeCommand();
    await authorize(command);
    provider.unavailable.add('authorize');
    await drain();
    const message = store.published.at(-1);
    assert.deepEqual(message?.payload, { orderId: command.orderId, reason: 'provider-error' });
    assert.deepEqual(provider.lookups, [command.orderId], 'the provider was asked for an authorisation of the order before giving up');
  });

  test('when an authorisation takes effect but every answer is lost, then the provider\'s authorisation is found and authorized is published, not declined', async () => {
    const command = anAuthorizeCommand();
    await authorize(command);
    provider.answersLost.add('authorize');
    await drain();
    assert.deepEqual(published(command.orderId), ['payments.authorized']);
    const payment = store.payments.get(command.orderId);
    assert.equal(payment?.status, 'authorized');
    assert.match(payment.providerPaymentId ?? '', /^sim_pi_/);
    assert.equal(store.operation(command.orderId, 'authorize')?.status, 'done');
  });

  test('when an authorisation whose answers were lost is followed by a void, then the hold found is voided, not left on the card', async () => {
    const command = anAuthorizeCommand();
    await authorize(command);
    await request(command.orderId, 'void');
    provider.answersLost.add('authorize');
    await drain();
    assert.deepEqual(provider.callsFor(command.orderId).filter((call) => call !== 'authorize'), ['void']);
    assert.deepEqual(published(command.orderId), ['payments.authorized', 'payments.voided']);
    assert.equal(store.payments.get(command.orderId)?.status, 'voided');
  });

  test('when the lookup fails too, then the call is neither given up nor counted failed, and it is tried again until the provider answers', async () => {
    const command = anAuthorizeCommand();
    await authorize(command);
    provider.answersLost.add('authorize');
    provider.lookupsUnavailable = true;
    for (let round = 0; round < maxAttempts + 3; round += 1) {
      await runDue();
      store.advance(60 * 60_000);
    }
    assert.equal(store.operation(command.orderId, 'authorize')?.status, 'pending');
    assert.deepEqual(published(command.orderId), []);
    assert.deepEqual(failedKinds, []);
    assert.ok(logged.some((entry) => entry.level === 'error' && entry.message.includes('lookup failed too')));
    assert.equal(provider.callsFor(command.orderId).length, maxAttempts + 3, 'the authorisation was sent again each round, with the same key');

    provider.answersLost.clear();
    provider.lookupsUnavailable = false;
    await drain();
    assert.deepEqual(published(command.orderId), ['payments.authorized']);
    assert.equal(store.operation(command.orderId, 'authorize')?.status, 'done');
  });

  test('when a capture\'s answers and the lookup both keep failing, then capture-failed is not published while the money may have been taken', async () => {
    const command = anAuthorizeCommand();
    await authorize(command);
    await drain();
    await request(command.orderId, 'capture');
    provider.answersLost.add('capture');
    provider.lookupsUnavailable = true;
    for (let round = 0; round < maxAttempts + 2; round += 1) {
      await runDue();
      store.advance(60 * 60_000);
    }
    assert.deepEqual(published(command.orderId), ['payments.authorized']);
    provider.lookupsUnavailable = false;
    await drain();
    assert.deepEqual(published(command.orderId), ['payments.authorized', 'payments.captured']);
  });

  test('when voids keep failing transiently, then the operation is marked failed, counted, an error is logged and nothing is published', async () => {
    const command = anAuthorizeCommand();
    await authorize(command);
    await request(command.orderId, 'void');
    provider.unavailable.add('void');
    await drain();
    assert.equal(store.operation(command.orderId, 'void')?.status, 'failed');
    assert.deepEqual(published(command.orderId), ['payments.authorized']);
    assert.ok(logged.some((entry) => entry.level === 'error' && JSON.stringify(entry.details).includes(command.orderId)));
    assert.deepEqual(failedKinds, ['void']);
  });

  test('when an authorisation is claimed, then a later operation of the same order waits until it is settled', async () => {
    const command = anAuthorizeCommand();
    await authorize(command);
    await request(command.orderId, 'void');
    const first = await runner.claim(10);
    assert.deepEqual(first.map((operation) => operation.kind), ['authorize']);
    assert.deepEqual(await runner.claim(10), []);
    await runner.run(first[0]!);
    assert.deepEqual((await runner.claim(10)).map((operation) => operation.kind), ['void']);
  });

  test('when a worker loses its lease, then the operation is claimed again and the stale claim settles nothing', async () => {
    const command = anAuthorizeCommand();
    await authorize(command);
    const [stale] = await runner.claim(10);
    assert.deepEqual(await runner.claim(10), []);
    store.advance(10_000);
    const [fresh] = await runner.claim(10);
    assert.equal(fresh?.id, stale?.id);
    await runner.run(stale!);
    assert.deepEqual(store.published, []);
    await runner.run(fresh!);
    assert.deepEqual(published(command.orderId), ['payments.authorized']);
    assert.deepEqual(provider.calls.map((call) => call.idempotencyKey), [`${command.orderId}:authorize`, `${command.orderId}:authorize`]);
  });
});

describe('ApplyWebhookEvent', () => {
  let events: ApplyWebhookEvent;
  let sequence = 0;
  beforeEach(() => {
    events = new ApplyWebhookEvent({ transactions: store, log: { info: () => undefined, warn: () => undefined, error: () => undefined }, now: store.now });
  });

  /** A verified event reporting `report` of the provider payment `providerPaymentId`. */
  function anEvent(providerPaymentId: string, report: ProviderReport, orderId?: string): VerifiedWebhookEvent {
    sequence += 1;
    return { provider: 'stripe', eventId: `evt_${sequence}`, type: `report.${report.state}`, payload: {}, report: { reference: { providerPaymentId, orderId }, report } };
  }

  async function authorized(): Promise<{ orderId: string; providerPaymentId: string }> {
    const command = anAuthorizeCommand();
    await authorize(command);
    await drain();
    const providerPaymentId = store.payments.get(command.orderId)?.providerPaymentId;
    assert.ok(providerPaymentId);
    return { orderId: command.orderId, providerPaymentId };
  }

  test('when a capture took effect but its answer was lost, then the report captures the payment, ends the operation and publishes captured once', async () => {
    const { orderId, providerPaymentId } = await authorized();
    await request(orderId, 'capture');
    provider.answersLost.add('capture');
    assert.equal(await runDue(), 1);
    assert.equal(store.operation(orderId, 'capture')?.status, 'pending');
    assert.equal(await events.execute(anEvent(providerPaymentId, { state: 'captured' })), 'applied');
    assert.equal(store.payments.get(orderId)?.status, 'captured');
    assert.deepEqual([store.operation(orderId, 'capture')?.status, store.operation(orderId, 'capture')?.outcome], ['done', 'captured']);
    await drain();
    assert.deepEqual(published(orderId), ['payments.authorized', 'payments.captured']);
    assert.deepEqual(provider.callsFor(orderId), ['authorize', 'capture']);
  });

  test('when the report arrives while the worker still waits for the capture answer, then the worker loses its claim and publishes nothing', async () => {
    const { orderId, providerPaymentId } = await authorized();
    await request(orderId, 'capture');
    const [inFlight] = await runner.claim(10);
    assert.equal(await events.execute(anEvent(providerPaymentId, { state: 'captured' })), 'applied');
    await runner.run(inFlight!);
    await drain();
    assert.deepEqual(published(orderId), ['payments.authorized', 'payments.captured']);
  });

  test('when our own capture was answered first, then the report changes nothing and publishes nothing', async () => {
    const { orderId, providerPaymentId } = await authorized();
    await request(orderId, 'capture');
    await drain();
    const before = store.payments.get(orderId);
    assert.equal(await events.execute(anEvent(providerPaymentId, { state: 'captured' })), 'ignored');
    assert.equal(await events.execute(anEvent(providerPaymentId, { state: 'authorized', providerPaymentId })), 'ignored');
    assert.equal(store.payments.get(orderId), before);
    assert.deepEqual(published(orderId), ['payments.authorized', 'payments.captured']);
  });

  test('when the same event is received twice, then the second is a duplicate with no effect', async () => {
    const { orderId, providerPaymentId } = await authorized();
    const event = anEvent(providerPaymentId, { state: 'voided' });
    assert.equal(await events.execute(event), 'applied');
    store.payments.set(orderId, { ...store.payments.get(orderId)!, status: 'authorized' });
    assert.equal(await events.execute(event), 'duplicate');
    assert.equal(store.payments.get(orderId)?.status, 'authorized');
    assert.deepEqual(published(orderId), ['payments.authorized', 'payments.voided']);
  });

  test('when an event names no known payment, then it is recorded and ignored', async () => {
    const event = anEvent('pi_unknown', { state: 'captured' });
    assert.equal(await events.execute(event), 'ignored');
    assert.equal(store.webhookEvents.has(`stripe:${event.eventId}`), true);
    assert.deepEqual(store.published, []);
  });

  test('when the authorisation answer is lost, then a report naming the order authorises the payment with the provider id', async () => {
    const command = anAuthorizeCommand();
    await authorize(command);
    provider.unavailable.add('authorize');
    await runDue();
    assert.equal(await events.execute(anEvent('pi_reported', { state: 'authorized', providerPaymentId: 'pi_reported' }, command.orderId)), 'applied');
    assert.deepEqual([store.payments.get(command.orderId)?.status, store.payments.get(command.orderId)?.providerPaymentId], ['authorized', 'pi_reported']);
    assert.equal(store.operation(command.orderId, 'authorize')?.status, 'done');
    await drain();
    assert.deepEqual(published(command.orderId), ['payments.authorized']);
  });

  test('when a hold expires while the capture call is in flight, then the capture is planned again from the voided payment, which stays voided', async () => {
    const { orderId, providerPaymentId } = await authorized();
    await request(orderId, 'capture');
    const [inFlight] = await runner.claim(10);
    assert.equal(await events.execute(anEvent(providerPaymentId, { state: 'voided' })), 'applied');
    await runner.run(inFlight!);
    assert.equal(store.payments.get(orderId)?.status, 'voided');
    assert.ok(logged.some((entry) => entry.message.includes('planned again')));
    await drain();
    assert.equal(store.payments.get(orderId)?.status, 'voided');
    assert.deepEqual(published(orderId), ['payments.authorized', 'payments.voided', 'payments.capture-failed']);
    assert.deepEqual([store.operation(orderId, 'capture')?.status, store.operation(orderId, 'capture')?.detail], ['done', 'payment-voided']);
  });

  test('when the report answers no waiting operation (a hold expired before the capture), then the operation waits and then fails its capture', async () => {
    const { orderId, providerPaymentId } = await authorized();
    await request(orderId, 'capture');
    assert.equal(await events.execute(anEvent(providerPaymentId, { state: 'voided' })), 'applied');
    assert.equal(store.operation(orderId, 'capture')?.status, 'pending');
    await drain();
    assert.deepEqual(published(orderId), ['payments.authorized', 'payments.voided', 'payments.capture-failed']);
    assert.deepEqual(provider.callsFor(orderId), ['authorize']);
  });
});
