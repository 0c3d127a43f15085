import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  accountDelaySeconds, addressKey, defaultThrottlePolicy, pairDelaySeconds, refusalWaitSeconds, reserveAccount, reserveAddress,
  reservePair, type AttemptBudgets, type BucketState, type GateState, type ThrottlePolicy,
} from './login-throttle.ts';

const start = new Date(Date.UTC(2026, 0, 1));
const policy = defaultThrottlePolicy;

const policyArbitrary: fc.Arbitrary<ThrottlePolicy> = fc.record({
  failuresBeforeDelay: fc.integer({ min: 1, max: 10 }),
  baseDelaySeconds: fc.integer({ min: 1, max: 5 }),
  maxDelaySeconds: fc.integer({ min: 1, max: 3600 }),
  addressBudget: fc.integer({ min: 1, max: 200 }),
  addressWindowSeconds: fc.integer({ min: 1, max: 3600 }),
  accountFailuresBeforeDelay: fc.integer({ min: 11, max: 50 }),
  accountMaxDelaySeconds: fc.integer({ min: 1, max: 120 }),
  forgetAfterSeconds: fc.integer({ min: 60, max: 86_400 }),
});

describe('delayAfterFailures', () => {
  test('when failures grow, then the delay never shrinks, never passes the cap, and is zero before the first few', () => {
    fc.assert(fc.property(policyArbitrary, fc.nat(2000), (limits, failures) => {
      const delay = pairDelaySeconds(failures, limits);
      assert.ok(pairDelaySeconds(failures + 1, limits) >= delay);
      assert.ok(delay <= limits.maxDelaySeconds);
      assert.equal(delay === 0, failures < limits.failuresBeforeDelay);
      assert.ok(accountDelaySeconds(failures, limits) <= limits.accountMaxDelaySeconds);
    }));
  });

  test('when the defaults apply, then after 5 failures the waits are 1 s, 2 s, 4 s … up to 15 minutes', () => {
    assert.deepEqual([4, 5, 6, 7, 14, 15, 1000].map((failures) => pairDelaySeconds(failures, policy)), [0, 1, 2, 4, 512, 900, 900]);
    assert.deepEqual([19, 20, 21, 26, 27].map((failures) => accountDelaySeconds(failures, policy)), [0, 1, 2, 60, 60]);
  });
});

/** What can happen to one (account, address) pair: an attempt that fails or succeeds, or time passing. */
type PairCommand = { kind: 'attempt'; succeeds: boolean } | { kind: 'wait'; seconds: number };

const pairCommand: fc.Arbitrary<PairCommand> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('attempt' as const), succeeds: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('wait' as const), seconds: fc.oneof(fc.integer({ min: 0, max: 70 }), fc.integer({ min: 0, max: 100_000 })) }) },
);

describe('reservePair, model-based', () => {
  test('when attempts and waits come in any order, then the pair answers as the model: free tries, then doubling waits, zero after a success', () => {
    fc.assert(fc.property(policyArbitrary, fc.array(pairCommand, { maxLength: 60 }), (limits, commands) => {
      // The model: failures since the last success (or since being forgotten) and the last attempt.
      let model = { failures: 0, lastAttemptMs: Number.NEGATIVE_INFINITY };
      let state: GateState | undefined;
      let nowMs = start.getTime();
      let lastRefusal: number | undefined;
      for (const command of commands) {
        if (command.kind === 'wait') {
          nowMs += command.seconds * 1000;
          lastRefusal = undefined;
          continue;
        }
        const now = new Date(nowMs);
        if (nowMs - model.lastAttemptMs > limits.forgetAfterSeconds * 1000) model = { failures: 0, lastAttemptMs: model.lastAttemptMs };
        const openAtMs = model.lastAttemptMs + pairDelaySeconds(model.failures, limits) * 1000;
        const decision = reservePair(state, now, limits);
        if (nowMs < openAtMs) {
          assert.ok(!decision.allowed, 'refused while the pair waits');
          assert.equal(decision.retryAfterSeconds, Math.ceil((openAtMs - nowMs) / 1000));
          assert.ok(decision.retryAfterSeconds <= limits.maxDelaySeconds, 'never longer than the cap');
          // Asking again without waiting never gets a longer answer: refusals count nothing.
          if (lastRefusal !== undefined) assert.equal(decision.retryAfterSeconds, lastRefusal);
          lastRefusal = decision.retryAfterSeconds;
          continue;
        }
        assert.ok(decision.allowed, 'allowed once the wait is over');
        lastRefusal = undefined;
        assert.equal(decision.state.failures, model.failures + 1, 'counted as a failure before the password is checked');
        if (command.succeeds) {
          // A success forgets the pair (the store deletes it): the next attempt has no wait at all.
          state = undefined;
          model = { failures: 0, lastAttemptMs: Number.NEGATIVE_INFINITY };
          const next = reservePair(state, now, limits);
          assert.ok(next.allowed && next.state.failures === 1);
        } else {
          state = decision.state;
          model = { failures: model.failures + 1, lastAttemptMs: nowMs };
        }
      }
    }));
  });
});

describe('reserveAccount and reserveAddress', () => {
  test('when one address keeps failing for an account, whatever its timing, then an attempt from another address never waits on the account', () => {
    fc.assert(fc.property(policyArbitrary, fc.array(fc.integer({ min: 0, max: 200_000 }), { maxLength: 80 }), (limits, waitsMs) => {
      let pair: GateState | undefined;
      let account: GateState | undefined;
      let nowMs = start.getTime();
      for (const waitMs of waitsMs) {
        nowMs += waitMs;
        const now = new Date(nowMs);
        const attacker = reservePair(pair, now, limits);
        if (attacker.allowed) {
          const gate = reserveAccount(account, attacker.state.failures <= limits.failuresBeforeDelay, now, limits);
          assert.ok(gate.allowed, 'one address alone never closes the account gate');
          pair = attacker.state;
          account = gate.state;
        }
        assert.ok(reserveAccount(account, true, new Date(nowMs + 1), limits).allowed, 'the owner from elsewhere passes');
      }
    }));
  });

  test('when many addresses fail for one account, then every further attempt waits a short while, never above the account cap', () => {
    let account: GateState | undefined;
    let now = start;
    for (let address = 0; address < 4 * policy.failuresBeforeDelay; address += 1) {
      const decision = reserveAccount(account, true, now, policy);
      assert.ok(decision.allowed);
      account = decision.state;
    }
    const refused = reserveAccount(account, true, now, policy);
    assert.ok(!refused.allowed);
    assert.equal(refused.retryAfterSeconds, 1);
    for (let round = 0; round < 20; round += 1) {
      now = account?.nextAttemptAt ?? now;
      const decision = reserveAccount(account, true, now, policy);
      assert.ok(decision.allowed);
      account = decision.state;
      assert.ok(account.nextAttemptAt.getTime() - now.getTime() <= policy.accountMaxDelaySeconds * 1000);
    }
  });

  test('when an address spends its budget across accounts, then it waits for the bucket to drain, and it refills evenly', () => {
    const limits = { ...policy, addressBudget: 10, addressWindowSeconds: 600 };
    let bucket: BucketState | undefined;
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const decision = reserveAddress(bucket, start, limits);
      assert.ok(decision.allowed);
      bucket = decision.state;
    }
    const refused = reserveAddress(bucket, start, limits);
    assert.ok(!refused.allowed);
    assert.equal(refused.retryAfterSeconds, 60);
    assert.ok(!reserveAddress(bucket, new Date(start.getTime() + 59_000), limits).allowed);
    assert.ok(reserveAddress(bucket, new Date(start.getTime() + 60_000), limits).allowed);
  });
});

describe('refusalWaitSeconds', () => {
  test('when an address has spent its budget and the pair also waits, then the refusal asks for the longer of the two waits', () => {
    // Two accounts fail twice each from one address: the bucket is full (4 of 4) and each pair waits 1 s.
    const limits: ThrottlePolicy = { ...policy, failuresBeforeDelay: 2, baseDelaySeconds: 1, maxDelaySeconds: 8, addressBudget: 4, addressWindowSeconds: 32 };
    let address: BucketState | undefined;
    let pair: GateState | undefined;
    for (let attempt = 0; attempt < 4; attempt += 1) {
      const bucket = reserveAddress(address, start, limits);
      assert.ok(bucket.allowed);
      address = bucket.state;
      if (attempt % 2 === 0) {
        const gate = reservePair(pair, start, limits);
        assert.ok(gate.allowed);
        pair = gate.state;
      }
    }
    assert.equal(refusalWaitSeconds({ pair, account: undefined, address }, start, limits), 8);
    assert.equal(refusalWaitSeconds({ pair: undefined, account: undefined, address: undefined }, start, limits), undefined);
  });

  test('when attempts from a few accounts and addresses come in any order, then one refused comes back after its wait to find every budget open', () => {
    // Small budgets, so a short run closes each of them and often two at once. Whole seconds and a
    // drain of a power of two per second keep the bucket's arithmetic exact.
    const exactPolicy: fc.Arbitrary<ThrottlePolicy> = fc.record({
      failuresBeforeDelay: fc.integer({ min: 1, max: 3 }), baseDelaySeconds: fc.integer({ min: 1, max: 4 }), maxDelaySeconds: fc.integer({ min: 1, max: 60 }),
      addressBudget: fc.integer({ min: 1, max: 8 }), windowShift: fc.integer({ min: 0, max: 4 }),
      accountFailuresBeforeDelay: fc.integer({ min: 2, max: 6 }), accountMaxDelaySeconds: fc.integer({ min: 1, max: 30 }), forgetAfterSeconds: fc.integer({ min: 60, max: 600 }),
    }).map(({ windowShift, ...limits }) => ({ ...limits, addressWindowSeconds: limits.addressBudget * 2 ** windowShift }));
    const attempts = fc.array(fc.record({ account: fc.nat(2), address: fc.nat(1), waitSeconds: fc.oneof(fc.constant(0), fc.nat(30)) }), { minLength: 1, maxLength: 60 });
    fc.assert(fc.property(exactPolicy, attempts, (limits, steps) => {
      const pairs = new Map<string, GateState>();
      const accounts = new Map<number, GateState>();
      const addresses = new Map<number, BucketState>();
      let nowMs = start.getTime();
      for (const step of steps) {
        nowMs += step.waitSeconds * 1000;
        const now = new Date(nowMs);
        const budgets = (): AttemptBudgets => ({ pair: pairs.get(`${step.account}/${step.address}`), account: accounts.get(step.account), address: addresses.get(step.address) });
        const wait = refusalWaitSeconds(budgets(), now, limits);
        if (wait !== undefined) {
          assert.ok(wait >= 1);
          assert.equal(refusalWaitSeconds(budgets(), new Date(nowMs + wait * 1000), limits), undefined, `still refused ${String(wait)} s later`);
          continue;
        }
        const pair = reservePair(budgets().pair, now, limits);
        const bucket = reserveAddress(budgets().address, now, limits);
        assert.ok(pair.allowed && bucket.allowed);
        const account = reserveAccount(budgets().account, pair.state.failures <= limits.failuresBeforeDelay, now, limits);
        assert.ok(account.allowed);
        pairs.set(`${step.account}/${step.address}`, pair.state);
        accounts.set(step.account, account.state);
        addresses.set(step.address, bucket.state);
      }
    }));
  });
});

describe('addressKey', () => {
  test('when an address is IPv6, then it is counted by its /64; IPv4 and IPv4-mapped by themselves', () => {
    assert.equal(addressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(addressKey('::1'), '0:0:0:0::/64');
    assert.equal(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
    assert.equal(addressKey('::ffff:10.1.2.3'), '10.1.2.3');
    assert.equal(addressKey('10.1.2.3'), '10.1.2.3');
  });
});
