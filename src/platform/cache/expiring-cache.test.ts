import assert from 'node:assert/strict';
import { test } from 'node:test';
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
