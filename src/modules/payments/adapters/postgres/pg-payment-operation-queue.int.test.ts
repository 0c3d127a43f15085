import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { messagingMigrations } from '../../../../platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import { paymentMessage } from '../../application/payment-messages.ts';
import type { ClaimedOperation, ProviderCallRecord, SettleResult } from '../../application/ports.ts';
import { createPayment } from '../../domain/payment.ts';
import { applyProviderOutcome } from '../../domain/payment-transitions.ts';
import { paymentsMigrations } from '../../index.ts';
import { anAuthorizeCommand, anOrderId } from '../../testing/payment-builders.ts';
import { PgPaymentOperationQueue } from './pg-payment-operation-queue.ts';
import { PgPaymentRepository } from './pg-payment-repository.ts';

let db: Database;
let drop: () => Promise<void>;
let queue: PgPaymentOperationQueue;
let repository: PgPaymentRepository;

before(async () => {
  ({ db, drop } = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, paymentsMigrations]));
  queue = new PgPaymentOperationQueue(db);
  repository = new PgPaymentRepository(db);
});
after(async () => { await drop(); });

async function anAuthorizedOrder(): Promise<string> {
  const command = anAuthorizeCommand();
  await repository.addPayment(createPayment(command, `pay_${crypto.randomUUID()}`, new Date()));
  await repository.addOperation(command.orderId, 'authorize');
  return command.orderId;
}

/** Claims until the operations of `orderIds` show up (other tests' operations may be claimed too). */
async function claimFor(orderIds: readonly string[], leaseMs = 60_000): Promise<ClaimedOperation[]> {
  return (await queue.claimDue(100, leaseMs)).filter((claim) => orderIds.includes(claim.orderId));
}

function callOf(claim: ClaimedOperation, outcome: string): ProviderCallRecord {
  return {
    operationId: claim.id, orderId: claim.orderId, call: 'authorize', idempotencyKey: `${claim.orderId}:authorize`,
    attempt: claim.attempts, outcome, detail: null, durationMs: 12, calledAt: new Date(),
  };
}

async function settleAuthorized(claim: ClaimedOperation): Promise<SettleResult> {
  assert.ok(claim.payment);
  const settlement = applyProviderOutcome(claim.payment, 'authorize', { outcome: 'authorized', providerPaymentId: 'pi_1' }, new Date());
  assert.ok(settlement.event);
  return queue.settle(claim, settlement, paymentMessage(claim.orderId, settlement.payment, settlement.event), callOf(claim, 'authorized'));
}

const count = async (table: string, orderId: string) => (await sql<{ count: number }>`
  select count(*)::int as count from ${sql.table(table)} where ${sql.ref(table === 'messaging.outbox' ? 'key' : 'order_id')} = ${orderId}`.execute(db)).rows[0]?.count;

async function until<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('PgPaymentRepository', () => {
  test('when an order\'s payment or operation is added twice, then the second add reports it and writes nothing', async () => {
    const command = anAuthorizeCommand();
    assert.equal(await repository.addPayment(createPayment(command, 'pay_a', new Date())), true);
    assert.equal(await repository.addPayment(createPayment(command, 'pay_b', new Date())), false);
    assert.equal(await repository.addOperation(command.orderId, 'capture'), true);
    assert.equal(await repository.addOperation(command.orderId, 'capture'), false);
    assert.equal((await repository.findPayment(command.orderId))?.id, 'pay_a');
    assert.equal(await repository.hasOperation(command.orderId, ['void', 'refund']), false);
    assert.equal(await repository.hasOperation(command.orderId, ['capture']), true);
  });
});

describe('PgPaymentOperationQueue', () => {
  test('when an order has an authorisation and a void, then the void is claimable only once the authorisation is settled', async () => {
    const orderId = await anAuthorizedOrder();
    await repository.addOperation(orderId, 'void');
    const first = await claimFor([orderId]);
    assert.deepEqual(first.map((claim) => claim.kind), ['authorize']);
    assert.equal(first[0]?.payment?.status, 'pending');
    assert.deepEqual(await claimFor([orderId]), []);
    assert.equal(await settleAuthorized(first[0]), 'settled');
    const second = await claimFor([orderId]);
    assert.deepEqual(second.map((claim) => [claim.kind, claim.payment?.status]), [['void', 'authorized']]);
  });

  test('when settled, then the operation, the payment, the provider call and the event are all written', async () => {
    const orderId = await anAuthorizedOrder();
    const [claim] = await claimFor([orderId]);
    await settleAuthorized(claim!);
    const operation = await sql<{ status: string; outcome: string; claim_token: string | null }>`
      select status, outcome, claim_token from payments.operations where order_id = ${orderId}`.execute(db);
    assert.deepEqual(operation.rows, [{ status: 'done', outcome: 'authorized', claim_token: null }]);
    assert.equal((await repository.findPayment(orderId))?.providerPaymentId, 'pi_1');
    assert.equal(await count('payments.provider_calls', orderId), 1);
    const outbox = await sql<{ type: string }>`select type from messaging.outbox where key = ${orderId}`.execute(db);
    assert.deepEqual(outbox.rows.map((row) => row.type), ['payments.authorized']);
  });

  test('when the payment moved while the call was in flight, then nothing is settled and the operation is due at once, to be planned from the payment as it stands', async () => {
    const orderId = await anAuthorizedOrder();
    const [claim] = await claimFor([orderId]);
    assert.ok(claim);
    // A provider report (webhook) declined the payment meanwhile.
    await sql`update payments.payments set status = 'declined', decline_reason = 'card-declined' where order_id = ${orderId}`.execute(db);
    assert.equal(await settleAuthorized(claim), 'payment-moved');
    assert.equal((await repository.findPayment(orderId))?.status, 'declined', 'the report is not overwritten');
    assert.equal(await count('messaging.outbox', orderId), 0);
    assert.equal(await count('payments.provider_calls', orderId), 1, 'the call is on record');
    const [again] = await claimFor([orderId]);
    assert.deepEqual([again?.id, again?.payment?.status], [claim.id, 'declined']);
  });

  test('when two workers claim at once, then no operation goes to both', async () => {
    const orderIds = await Promise.all(Array.from({ length: 12 }, anAuthorizedOrder));
    const [a, b] = await Promise.all([claimFor(orderIds), claimFor(orderIds)]);
    const ids = [...a, ...b].map((claim) => claim.id);
    assert.equal(new Set(ids).size, ids.length);
    assert.equal(ids.length, 12);
  });

  test('when a claim\'s lease runs out, then the operation is claimed again and the stale claim can record its call but settle nothing', async () => {
    const orderId = await anAuthorizedOrder();
    const [stale] = await claimFor([orderId], 100);
    assert.ok(stale);
    const fresh = await until(async () => (await claimFor([orderId], 60_000))[0], 'the lease to run out');
    assert.equal(fresh.id, stale.id);
    assert.equal(fresh.attempts, 2);
    assert.equal(await settleAuthorized(stale), 'claim-lost');
    assert.equal(await count('messaging.outbox', orderId), 0);
    assert.equal(await count('payments.provider_calls', orderId), 1, 'the stale call is still on record');
    assert.equal(await settleAuthorized(fresh), 'settled');
    assert.equal(await count('messaging.outbox', orderId), 1);
  });

  test('when a claim\'s lease is renewed, then it outlives its first lease, and a lost claim cannot renew', async () => {
    const orderId = await anAuthorizedOrder();
    const [claim] = await claimFor([orderId], 100);
    assert.ok(claim);
    assert.equal(await queue.extendLease(claim, 60_000), true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(await claimFor([orderId]), []);
    assert.equal(await queue.extendLease({ ...claim, claimToken: crypto.randomUUID() }, 60_000), false);
  });

  test('when retried later, then the operation is not due until its delay has passed, and the failed call is logged', async () => {
    const orderId = await anAuthorizedOrder();
    const [claim] = await claimFor([orderId]);
    assert.equal(await queue.retryLater(claim!, 60_000, callOf(claim!, 'transient-error')), true);
    assert.deepEqual(await claimFor([orderId]), []);
    await sql`update payments.operations set next_attempt_at = now() where order_id = ${orderId}`.execute(db);
    assert.equal((await claimFor([orderId]))[0]?.attempts, 2);
    assert.equal(await count('payments.provider_calls', orderId), 1);
  });

  test('when an operation has no payment (a void before any authorisation), then it is claimed with none', async () => {
    const orderId = anOrderId();
    await repository.addOperation(orderId, 'void');
    const [claim] = await claimFor([orderId]);
    assert.equal(claim?.kind, 'void');
    assert.equal(claim.payment, undefined);
  });

  test('when many settlements arrive at once, one of a moved payment and one of a lost claim among them, then each has the outcome it would have alone', async () => {
    const orderIds = await Promise.all(Array.from({ length: 10 }, anAuthorizedOrder));
    const claims = await claimFor(orderIds);
    assert.equal(claims.length, 10);
    // The first settlement is written alone; those arriving meanwhile, together.
    const [first, moved, lost, ...others] = claims;
    assert.ok(first && moved && lost);
    const current = [first, ...others];
    await sql`update payments.payments set status = 'declined', decline_reason = 'card-declined' where order_id = ${moved.orderId}`.execute(db);
    await sql`update payments.operations set claim_token = gen_random_uuid() where id = ${lost.id}`.execute(db);

    const before = queue.settleCounts();
    const results = await Promise.all(claims.map(settleAuthorized));
    const after = queue.settleCounts();
    assert.deepEqual([after.transactions - before.transactions, after.settlements - before.settlements], [2, 10], 'the first alone, the nine that arrived meanwhile together');

    assert.deepEqual(results, ['settled', 'payment-moved', 'claim-lost', ...others.map(() => 'settled')]);
    for (const claim of current) {
      assert.equal((await repository.findPayment(claim.orderId))?.providerPaymentId, 'pi_1');
      assert.equal(await count('messaging.outbox', claim.orderId), 1);
    }
    const operations = await sql<{ order_id: string; status: string; claim_token: string | null }>`
      select order_id, status, claim_token from payments.operations where order_id = any(${orderIds})`.execute(db);
    const statusOf = new Map(operations.rows.map((row) => [row.order_id, [row.status, row.claim_token === null]]));
    assert.deepEqual(statusOf.get(moved.orderId), ['pending', true], 'released, to be planned again');
    assert.deepEqual(statusOf.get(lost.orderId), ['pending', false], 'left to its new holder');
    for (const claim of current) assert.deepEqual(statusOf.get(claim.orderId), ['done', true]);
    assert.equal((await repository.findPayment(moved.orderId))?.status, 'declined');
    assert.equal(await count('messaging.outbox', moved.orderId), 0);
    assert.equal(await count('messaging.outbox', lost.orderId), 0);
    for (const orderId of orderIds) assert.equal(await count('payments.provider_calls', orderId), 1, 'every call is on record');
  });

  test('when one settlement among many cannot be written, then it alone fails and the others are settled', async () => {
    const orderIds = await Promise.all(Array.from({ length: 6 }, anAuthorizedOrder));
    const claims = await claimFor(orderIds);
    // The first settlement is written alone; the poisoned one arrives meanwhile, with the others.
    const [first, poisoned, ...others] = claims;
    assert.ok(first && poisoned?.payment);
    const settlement = applyProviderOutcome(poisoned.payment, 'authorize', { outcome: 'authorized', providerPaymentId: 'pi_1' }, new Date());
    // A call the table refuses (no such provider operation).
    const refused = { ...callOf(poisoned, 'authorized'), call: 'teleport' } as unknown as ProviderCallRecord;

    const results = await Promise.allSettled([
      settleAuthorized(first),
      queue.settle(poisoned, settlement, undefined, refused),
      ...others.map(settleAuthorized),
    ]);

    assert.deepEqual(results.map((result) => (result.status === 'fulfilled' ? result.value : result.status)), ['settled', 'rejected', ...others.map(() => 'settled')]);
    const [operation] = (await sql<{ status: string }>`select status from payments.operations where id = ${poisoned.id}`.execute(db)).rows;
    assert.equal(operation?.status, 'pending', 'left claimed, taken again when its lease ends');
  });
});
