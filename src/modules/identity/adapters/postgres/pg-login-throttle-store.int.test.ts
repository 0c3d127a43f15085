import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { sql } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import type { ThrottleReservation } from '../../application/ports.ts';
import type { SignInAttempt, ThrottlePolicy } from '../../domain/login-throttle.ts';
import { identityMigrations } from '../../index.ts';
import { InMemoryLoginThrottleStore } from '../../testing/in-memory-login-throttle-store.ts';
import { PgLoginThrottleStore } from './pg-login-throttle-store.ts';

let db: Database;
let drop: () => Promise<void>;

before(async () => {
  const created = await createTestDatabase(embeddedServerUrl(), [identityMigrations]);
  db = created.db;
  drop = created.drop;
});
after(async () => { await drop(); });

// Small numbers, so a short run reaches every budget; a drain of 1/8 per second keeps the bucket's
// arithmetic exact in both stores.
const policy: ThrottlePolicy = {
  failuresBeforeDelay: 2, baseDelaySeconds: 1, maxDelaySeconds: 8, addressBudget: 4, addressWindowSeconds: 32,
  accountFailuresBeforeDelay: 3, accountMaxDelaySeconds: 4, forgetAfterSeconds: 60,
};

type Command =
  | { kind: 'attempt'; account: number; address: number; outcome: 'fail' | 'succeed' | 'release' }
  | { kind: 'wait'; seconds: number }
  | { kind: 'forgive'; account: number }
  | { kind: 'prune' };

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('attempt' as const), account: fc.nat(2), address: fc.nat(2), outcome: fc.constantFrom('fail' as const, 'fail' as const, 'succeed' as const, 'release' as const) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('wait' as const), seconds: fc.oneof(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 90 })) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('forgive' as const), account: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'prune' as const }) },
);

let run = 0;

describe('PgLoginThrottleStore', () => {
  test('when attempts, outcomes, waits, forgiveness and sweeps come in any order, then PostgreSQL answers exactly as the domain rules in memory', async () => {
    await fc.assert(fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 30 }), async (commands) => {
      run += 1;
      // Each run has its own accounts and addresses, so runs never see each other's rows.
      const attemptOf = (account: number, address: number): SignInAttempt => ({ account: `run${run}-user${account}@example.com`, address: `run${run}-10.0.0.${address}` });
      const stored = new PgLoginThrottleStore(db, policy);
      const model = new InMemoryLoginThrottleStore(policy);
      let nowMs = Date.UTC(2026, 0, 1) + run * 1_000_000_000;
      for (const step of commands) {
        const now = new Date(nowMs);
        if (step.kind === 'wait') nowMs += step.seconds * 1000;
        else if (step.kind === 'forgive') await Promise.all([stored.forgive(attemptOf(step.account, 0).account), model.forgive(attemptOf(step.account, 0).account)]);
        else if (step.kind === 'prune') {
          await stored.prune(now);
          await model.prune(now);
        } else {
          const attempt = attemptOf(step.account, step.address);
          const [real, expected] = await Promise.all([stored.reserve(attempt, now), model.reserve(attempt, now)]);
          assert.deepEqual(summary(real), summary(expected), `${step.outcome} ${JSON.stringify(attempt)} at +${String((nowMs - Date.UTC(2026, 0, 1)) % 1_000_000_000)} ms`);
          if ('attempt' in real && 'attempt' in expected) {
            if (step.outcome === 'succeed') await Promise.all([stored.succeed(real), model.succeed(expected)]);
            if (step.outcome === 'release') await Promise.all([stored.release(real), model.release(expected)]);
          }
        }
      }
    }), { numRuns: 40 });
  });

  test('when many sign-ins from one address reserve, succeed and give back at once, then none of them deadlocks', async () => {
    // A budget wide enough that nothing is refused: every attempt takes its rows, then gives them back.
    const open: ThrottlePolicy = { ...policy, failuresBeforeDelay: 1_000, accountFailuresBeforeDelay: 1_000, addressBudget: 10_000 };
    const store = new PgLoginThrottleStore(db, open);
    const now = new Date(Date.UTC(2027, 5, 1));
    const failures: unknown[] = [];
    await Promise.all(Array.from({ length: 8 }, async (_, worker) => {
      for (let round = 0; round < 15; round += 1) {
        const attempt = { account: `crowd-${(worker + round) % 3}@example.com`, address: '10.8.0.1' };
        try {
          const reserved = await store.reserve(attempt, now);
          if (!('attempt' in reserved)) throw new Error(`refused: ${JSON.stringify(reserved)}`);
          await (round % 2 === 0 ? store.succeed(reserved) : store.release(reserved));
        } catch (error) {
          failures.push(error);
        }
      }
    }));
    assert.deepEqual(failures.map((error) => (error instanceof Error ? error.message : String(error))), []);
  });

  test('when the sweeper runs, then counters that slow nothing down any more are deleted and live ones kept', async () => {
    const store = new PgLoginThrottleStore(db, policy);
    const start = new Date(Date.UTC(2027, 0, 1));
    const stale = { account: 'sweep-stale@example.com', address: '10.9.0.1' };
    const live = { account: 'sweep-live@example.com', address: '10.9.0.2' };
    assert.ok('attempt' in await store.reserve(stale, start));
    const later = new Date(start.getTime() + (policy.forgetAfterSeconds + 1) * 1000);
    assert.ok('attempt' in await store.reserve(live, later));
    await store.prune(later);
    const rows = await sql<{ account: string }>`
      select account from identity.login_throttle_pairs where account like 'sweep-%'
      union all select account from identity.login_throttle_accounts where account like 'sweep-%'
      union all select address from identity.login_throttle_addresses where address like '10.9.0.%'`.execute(db);
    assert.deepEqual(rows.rows.map((row) => row.account).sort(), ['10.9.0.2', live.account, live.account]);
  });
});

function summary(answer: ThrottleReservation | { retryAfterSeconds: number }): unknown {
  return 'attempt' in answer
    ? { allowed: true, pairGateAt: answer.pairGateAt.getTime(), accountGateAt: answer.accountGateAt?.getTime() }
    : { allowed: false, retryAfterSeconds: answer.retryAfterSeconds };
}
