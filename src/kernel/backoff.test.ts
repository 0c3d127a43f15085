import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { backoffDelayMs, type Backoff } from './backoff.ts';

const baseDelayMs = fc.integer({ min: 0, max: 1_000_000 });
const backoffArbitrary: fc.Arbitrary<Backoff> = fc.oneof(
  fc.record({ baseDelayMs }),
  fc.record({ baseDelayMs, maxDelayMs: fc.integer({ min: 0, max: 3_600_000 }) }),
);
const attempt = fc.integer({ min: -3, max: 10_000 });
/** A draw of `Math.random`: from 0 up to, not including, 1. */
const draw = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

/** The longest delay any attempt may wait. */
function capOf(backoff: Backoff): number {
  return Math.min(backoff.baseDelayMs * 2 ** 20, backoff.maxDelayMs ?? Number.POSITIVE_INFINITY);
}

describe('backoffDelayMs', () => {
  test('when any attempt is delayed, then the delay is a whole number of milliseconds from 0 up to the cap', () => {
    fc.assert(fc.property(backoffArbitrary, attempt, draw, (backoff, n, random) => {
      const delay = backoffDelayMs(backoff, n, () => random);
      assert.ok(Number.isSafeInteger(delay), `${delay} is whole`);
      assert.ok(delay >= 0, `${delay} is not negative`);
      assert.ok(delay <= capOf(backoff), `${delay} is at most the cap ${capOf(backoff)}`);
    }));
  });

  test('when attempts go up, then the delay never shrinks, whatever the jitter, until the cap stops it', () => {
    const attempts = fc.integer({ min: 1, max: 20 }).chain((first) => fc.tuple(fc.constant(first), fc.integer({ min: first + 1, max: 21 })));
    fc.assert(fc.property(backoffArbitrary, attempts, draw, draw, (backoff, [first, later], randomFirst, randomLater) => {
      assert.ok(backoffDelayMs(backoff, later, () => randomLater) >= backoffDelayMs(backoff, first, () => randomFirst));
    }));
  });

  test('when the jitter is the same, then a later attempt never waits less, however many attempts', () => {
    fc.assert(fc.property(backoffArbitrary, attempt, draw, (backoff, n, random) => {
      assert.ok(backoffDelayMs(backoff, n + 1, () => random) >= backoffDelayMs(backoff, n, () => random));
    }));
  });

  test('when attempt n is delayed without a cap, then it waits between half and all of base × 2^(n−1)', () => {
    fc.assert(fc.property(baseDelayMs, fc.integer({ min: 1, max: 21 }), draw, (base, n, random) => {
      const ceiling = base * 2 ** (n - 1);
      const delay = backoffDelayMs({ baseDelayMs: base }, n, () => random);
      assert.ok(delay >= ceiling / 2 && delay <= ceiling, `${delay} within [${ceiling / 2}, ${ceiling}]`);
    }));
    assert.deepEqual([1, 2, 3, 4].map((n) => backoffDelayMs({ baseDelayMs: 100 }, n, () => 0.5)), [75, 150, 300, 600]);
  });

  test('when a cap is set, then long delays stop at it and short ones are untouched', () => {
    assert.equal(backoffDelayMs({ baseDelayMs: 500, maxDelayMs: 60_000 }, 30, () => 0.99), 60_000);
    assert.equal(backoffDelayMs({ baseDelayMs: 500, maxDelayMs: 60_000 }, 2, () => 0), 500);
  });

  test('when the attempt count is 0 or less, then it is delayed like the first attempt', () => {
    assert.equal(backoffDelayMs({ baseDelayMs: 100 }, 0, () => 0), 50);
    assert.equal(backoffDelayMs({ baseDelayMs: 100 }, -4, () => 1), 100);
  });
});
