import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { sql } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { messagingMigrations } from '../../../../platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import type { PaymentRepository } from '../../application/ports.ts';
import { RequestAuthorization } from '../../application/request-authorization.ts';
import { RequestPaymentOperation } from '../../application/request-payment-operation.ts';
import { paymentsMigrations } from '../../index.ts';
import { BatchPaymentRepository } from './batch-payment-repository.ts';
import { PgPaymentRepository } from './pg-payment-repository.ts';

/*
 * Model-based: a batch of payments commands recorded by `BatchPaymentRepository` (orders locked
 * and read up front, rows inserted at the end) must leave what the same commands leave recorded one
 * at a time by `PgPaymentRepository`: the same payments, the same operations in the same order, the
 * same answers. MODEL_RUNS=<n> and MODEL_SEED=<n> explore more.
 */

const numRuns = Number(process.env.MODEL_RUNS ?? 60);
const seed = Number(process.env.MODEL_SEED ?? 20_261_204);
const now = new Date('2026-12-04T10:00:00Z');
const orders = ['ord_0', 'ord_1', 'ord_2'];

type Command = { kind: 'authorize'; orderId: string; amount: number } | { kind: 'capture' | 'void' | 'refund'; orderId: string };

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ kind: fc.constant('authorize' as const), orderId: fc.constantFrom(...orders), amount: fc.integer({ min: 1, max: 10_000 }) }),
  fc.record({ kind: fc.constantFrom('capture' as const, 'void' as const, 'refund' as const), orderId: fc.constantFrom(...orders) }),
);

function run(payments: PaymentRepository, given: Command): Promise<string> {
  if (given.kind === 'authorize') {
    return new RequestAuthorization({ payments, newId: () => `pay_${given.orderId}`, now: () => now })
      .execute({ orderId: given.orderId, amount: { amount: given.amount, currency: 'EUR' }, token: 'tok_visa' });
  }
  return new RequestPaymentOperation({ payments }).execute(given.orderId, given.kind);
}

let alone: { db: Database; drop: () => Promise<void> };
let batched: { db: Database; drop: () => Promise<void> };

before(async () => {
  [alone, batched] = await Promise.all([
    createTestDatabase(embeddedServerUrl(), [messagingMigrations, paymentsMigrations]),
    createTestDatabase(embeddedServerUrl(), [messagingMigrations, paymentsMigrations]),
  ]);
});
after(async () => { await Promise.all([alone.drop(), batched.drop()]); });

async function reset(db: Database, existing: readonly Command[]): Promise<void> {
  await sql`truncate payments.provider_calls, payments.operations, payments.payments`.execute(db);
  for (const given of existing) await db.transaction().execute((transaction) => run(new PgPaymentRepository(transaction), given));
}

async function stateOf(db: Database): Promise<unknown> {
  const payments = (await sql`select order_id, id, amount, status from payments.payments order by order_id`.execute(db)).rows;
  // The operations in id order: an order's operations run in that order.
  const operations = (await sql`select order_id, kind, status from payments.operations order by id`.execute(db)).rows;
  return { payments, operations };
}

test('when a batch of payments commands is recorded in memory and inserted at the end, then it leaves what the same commands leave recorded one at a time', async () => {
  let compared = 0;
  await fc.assert(fc.asyncProperty(
    fc.array(command, { maxLength: 3 }),
    fc.array(command, { minLength: 1, maxLength: 10 }),
    async (existing, commands) => {
      await Promise.all([reset(alone.db, existing), reset(batched.db, existing)]);
      const answersAlone: string[] = [];
      for (const given of commands) answersAlone.push(await alone.db.transaction().execute((transaction) => run(new PgPaymentRepository(transaction), given)));
      const answersBatched = await batched.db.transaction().execute(async (transaction) => {
        const payments = await BatchPaymentRepository.lock(transaction, commands.map((given) => given.orderId));
        const answers: string[] = [];
        for (const given of commands) answers.push(await run(payments, given));
        await payments.write();
        return answers;
      });
      compared += 1;
      assert.deepEqual(answersBatched, answersAlone);
      assert.deepEqual(await stateOf(batched.db), await stateOf(alone.db));
    },
  ), { numRuns, seed });
  assert.equal(compared, numRuns);
});
