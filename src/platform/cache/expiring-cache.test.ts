import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ExpiringCache } from './expiring-cache.ts';

function clock(start = 1_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => { now += ms; } };
}

test('when an entry is read before its expiry, then it is returned, and after it, it is gone', () => {
  const time = clock();
  const cache = new ExpiringCache<string, number>({ maxEntries: 10, now: time.now });
  cache.set('a', 1, time.now() + 100);

  time.advance(99);
  assert.equal(cache.get('a'), 1);
  time.advance(1);
  assert.equal(cache.get('a'), undefined);
  assert.equal(cache.size, 0);
});

test('when the cache is full, then the entry stored first makes room', () => {
  const time = clock();
  const cache = new ExpiringCache<string, number>({ maxEntries: 2, now: time.now });
  cache.set('a', 1, time.now() + 1000);
  cache.set('b', 2, time.now() + 1000);
  cache.set('a', 10, time.now() + 1000); // stored again: now the newest

  cache.set('c', 3, time.now() + 1000);

  assert.equal(cache.get('b'), undefined);
  assert.equal(cache.get('a'), 10);
  assert.equal(cache.get('c'), 3);
  assert.equal(cache.size, 2);
});

test('when a value is already expired or deleted, then it is not kept', () => {
  const time = clock();
  const cache = new ExpiringCache<string, number>({ maxEntries: 2, now: time.now });
  cache.set('stale', 1, time.now());
  cache.set('a', 1, time.now() + 10);
  cache.delete('a');
  cache.set('b', 2, time.now() + 10);
  cache.clear();

  assert.equal(cache.get('stale'), undefined);
  assert.equal(cache.get('a'), undefined);
  assert.equal(cache.get('b'), undefined);
  assert.throws(() => new ExpiringCache({ maxEntries: 0 }), RangeError);
});

test('when any mix of stores, reads, deletes, clears and time passing happens, then the cache answers as a list kept in storing order would', () => {
  type Step = { op: 'set'; key: number; ttl: number } | { op: 'get' | 'delete'; key: number } | { op: 'clear' } | { op: 'advance'; ms: number };
  const key = fc.integer({ min: 0, max: 12 });
  const step: fc.Arbitrary<Step> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ op: fc.constant('set' as const), key, ttl: fc.integer({ min: -5, max: 50 }) }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('get' as const), key }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), key }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 30 }) }) },
    { weight: 1, arbitrary: fc.constant({ op: 'clear' as const }) },
  );
  fc.assert(fc.property(fc.integer({ min: 1, max: 6 }), fc.array(step, { maxLength: 200 }), (maxEntries, steps) => {
    const time = clock();
    const cache = new ExpiringCache<number, number>({ maxEntries, now: time.now });
    // The model: entries oldest first.
    let model: { key: number; value: number; expiresAt: number }[] = [];
    steps.forEach((next, index) => {
      switch (next.op) {
        case 'set': {
          const expiresAt = time.now() + next.ttl;
          cache.set(next.key, index, expiresAt);
          model = model.filter((entry) => entry.key !== next.key);
          if (expiresAt > time.now()) model.push({ key: next.key, value: index, expiresAt });
          if (model.length > maxEntries) model.shift();
          break;
        }
        case 'get': {
          const entry = model.find((candidate) => candidate.key === next.key);
          const expected = entry !== undefined && entry.expiresAt > time.now() ? entry.value : undefined;
          if (entry !== undefined && expected === undefined) model = model.filter((candidate) => candidate !== entry);
          assert.equal(cache.get(next.key), expected);
          break;
        }
        case 'delete':
          cache.delete(next.key);
          model = model.filter((entry) => entry.key !== next.key);
          break;
        case 'clear':
          cache.clear();
          model = [];
          break;
        case 'advance':
          time.advance(next.ms);
          break;
      }
      assert.equal(cache.size, model.length);
    });
  }), { numRuns: 500 });
});

test('when a full cache takes a hundred thousand new keys, then each still makes room by dropping the oldest', () => {
  const cache = new ExpiringCache<string, number>({ maxEntries: 1_000, now: () => 0 });
  for (let index = 0; index < 100_000; index += 1) cache.set(`SKU-${index}`, index, 1);
  assert.equal(cache.size, 1_000);
  assert.equal(cache.get('SKU-98999'), undefined);
  assert.equal(cache.get('SKU-99000'), 99_000);
  assert.equal(cache.get('SKU-99999'), 99_999);
});
