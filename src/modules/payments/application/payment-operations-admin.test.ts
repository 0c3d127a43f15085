import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import { SimulatedPaymentProvider } from '../adapters/providers/simulated-payment-provider.ts';
import { PaymentOperationNotFoundError, PaymentOperationNotRetryableError } from '../domain/payment.errors.ts';
import { InMemoryPaymentOperationRecords } from '../testing/in-memory-payment-operation-records.ts';
import { InMemoryPaymentStore } from '../testing/in-memory-payment-store.ts';
import { anAuthorizeCommand } from '../testing/payment-builders.ts';
import { RecordingPaymentProvider } from '../testing/recording-payment-provider.ts';
import { ListPaymentOperations } from './list-payment-operations.ts';
import { RequestAuthorization } from './request-authorization.ts';
import { RequestPaymentOperation } from './request-payment-operation.ts';
import { RetryPaymentOperation } from './retry-payment-operation.ts';
import { RunPaymentOperations } from './run-payment-operations.ts';

let store: InMemoryPaymentStore;
let provider: RecordingPaymentProvider;
let runner: RunPaymentOperations;
let wakes: number;
let list: ListPaymentOperations;
let retry: RetryPaymentOperation;

beforeEach(() => {
  store = new InMemoryPaymentStore();
  provider = new RecordingPaymentProvider(new SimulatedPaymentProvider({ delayMs: 0 }));
  const quiet = () => undefined;
  runner = new RunPaymentOperations({
    operations: store, provider, log: { info: quiet, warn: quiet, error: quiet },
    settings: { maxAttempts: 2, retryBaseMs: 100, leaseMs: 10_000 }, now: store.now, random: () => 1,
  });
  wakes = 0;
  const records = new InMemoryPaymentOperationRecords(store);
  list = new ListPaymentOperations({ operations: records });
  retry = new RetryPaymentOperation({ operations: records, wakeWorker: () => { wakes += 1; } });
});

/** Runs operations until none is due, letting the clock pass for retries. */
async function drain(): Promise<void> {
  for (let round = 0; round < 50; round += 1) {
    const claimed = await runner.claim(10);
    for (const operation of claimed) await runner.run(operation);
    if (claimed.length > 0) continue;
    if (!store.operations.some((operation) => operation.status === 'pending')) return;
    store.advance(60_000);
  }
  assert.fail('operations did not finish');
}

/** An order whose payment is authorised (and captured when asked). */
async function anAuthorizedOrder(options: { captured?: boolean } = {}): Promise<string> {
  const command = anAuthorizeCommand();
  await new RequestAuthorization({ payments: store, now: store.now }).execute(command);
  if (options.captured === true) await request(command.orderId, 'capture');
  await drain();
  return command.orderId;
}

const request = (orderId: string, kind: 'capture' | 'void' | 'refund') => new RequestPaymentOperation({ payments: store }).execute(orderId, kind);

/** Asks for `kind` while the provider refuses that call every time, so the operation ends failed. */
async function aFailedOperation(orderId: string, kind: 'void' | 'refund', call: 'void' | 'refund' = kind): Promise<number> {
  provider.unavailable.add(call);
  await request(orderId, kind);
  await drain();
  provider.unavailable.delete(call);
  const operation = store.operation(orderId, kind);
  assert.equal(operation?.status, 'failed');
  return operation.id;
}

/** Marks a queued operation failed as the worker leaves it, for kinds the recording provider cannot make fail. */
function markFailed(orderId: string, kind: 'authorize' | 'capture'): number {
  const operation = store.operation(orderId, kind);
  assert.ok(operation !== undefined);
  Object.assign(operation, { status: 'failed', outcome: 'failed', detail: 'the provider answered authorized to capture' });
  return operation.id;
}

const published = (orderId: string) => store.published.filter((message) => message.key === orderId).map((message) => message.type);

describe('ListPaymentOperations', () => {
  test('when operations failed, then status=failed lists only them, with their last error and amount, a page at a time', async () => {
    const orders = [await anAuthorizedOrder(), await anAuthorizedOrder(), await anAuthorizedOrder()];
    const failed = [];
    for (const orderId of orders) failed.push(await aFailedOperation(orderId, 'void'));
    await request(await anAuthorizedOrder(), 'capture');

    const first = await list.execute({ status: 'failed', limit: 2 });
    assert.deepEqual(first.items.map((item) => item.id), failed.slice(0, 2));
    assert.ok(first.next !== null);
    const second = await list.execute({ status: 'failed', after: first.next, limit: 2 });
    assert.deepEqual(second.items.map((item) => item.id), failed.slice(2));
    assert.equal(second.next, null);
    const item = first.items[0];
    assert.deepEqual([item?.kind, item?.status, item?.attempts, item?.payment?.amount.amount, item?.payment?.status], ['void', 'failed', 2, 4200, 'authorized']);
    assert.match(item?.lastError ?? '', /gave up after repeated transient failures/);
    const pending = await list.execute({ status: 'pending', limit: 10 });
    assert.deepEqual(pending.items.map((operation) => operation.kind), ['capture']);
  });
});

describe('RetryPaymentOperation', () => {
  test('when a failed void is retried after the provider recovers, then it is pending with fresh attempts, the worker is woken, and the hold is voided', async () => {
    const orderId = await anAuthorizedOrder();
    const id = await aFailedOperation(orderId, 'void');

    const requeued = await retry.execute(String(id));
    assert.deepEqual([requeued.status, requeued.attempts, requeued.outcome], ['pending', 0, null]);
    assert.equal(wakes, 1);
    await drain();
    assert.equal(store.operation(orderId, 'void')?.status, 'done');
    assert.equal(store.payments.get(orderId)?.status, 'voided');
    assert.deepEqual(published(orderId), ['payments.authorized', 'payments.voided']);
    assert.deepEqual((await list.execute({ status: 'failed', limit: 10 })).items, []);
  });

  test('when a failed void of a captured payment is retried, then the worker plans a refund from the payment as it stands', async () => {
    const orderId = await anAuthorizedOrder({ captured: true });
    const id = await aFailedOperation(orderId, 'void', 'refund');
    await retry.execute(String(id));
    await drain();
    assert.equal(store.payments.get(orderId)?.status, 'refunded');
    assert.deepEqual(provider.callsFor(orderId).filter((call) => call !== 'refund'), ['authorize', 'capture']);
    assert.equal(published(orderId).at(-1), 'payments.refunded');
  });

  test('when a failed capture is retried while the payment is still authorised, then it is captured', async () => {
    const orderId = await anAuthorizedOrder();
    await request(orderId, 'capture');
    const id = markFailed(orderId, 'capture');
    assert.equal(store.payments.get(orderId)?.status, 'authorized');
    await retry.execute(String(id));
    await drain();
    assert.equal(store.payments.get(orderId)?.status, 'captured');
  });

  test('when a failed capture is retried after the order asked for a void, then it is refused and nothing is re-queued or captured', async () => {
    const orderId = await anAuthorizedOrder();
    await request(orderId, 'capture');
    const id = markFailed(orderId, 'capture');
    await request(orderId, 'void');
    await drain();
    await assert.rejects(retry.execute(String(id)), (error: unknown) => error instanceof PaymentOperationNotRetryableError && error.message.includes('voided or refunded'));
    assert.equal(store.operation(orderId, 'capture')?.status, 'failed');
    assert.equal(wakes, 0);
    assert.ok(!provider.callsFor(orderId).includes('capture'));
    assert.equal(store.payments.get(orderId)?.status, 'voided');
  });

  test('when an operation is pending or done, then it is refused as not failed', async () => {
    const orderId = await anAuthorizedOrder();
    const done = store.operation(orderId, 'authorize');
    await request(orderId, 'capture');
    const pending = store.operation(orderId, 'capture');
    for (const operation of [done, pending]) {
      assert.ok(operation !== undefined);
      await assert.rejects(retry.execute(String(operation.id)), (error: unknown) => error instanceof PaymentOperationNotRetryableError && error.message.includes('only failed operations'));
    }
  });

  test('when a failed operation is retried twice, then the second retry is refused and the operation is queued once', async () => {
    const id = await aFailedOperation(await anAuthorizedOrder(), 'void');
    await retry.execute(String(id));
    await assert.rejects(retry.execute(String(id)), PaymentOperationNotRetryableError);
    assert.equal(wakes, 1);
  });

  for (const id of ['999', 'abc', '0', '1.5', '99999999999999999999']) {
    test(`when the id is ${id}, then it is not found`, async () => {
      await assert.rejects(retry.execute(id), PaymentOperationNotFoundError);
    });
  }
});
