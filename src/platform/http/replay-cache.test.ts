import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ReplayCache } from './replay-cache.ts';

const start = Date.parse('2026-11-26T12:00:00Z');

describe('replay cache', () => {
  test('when a nonce is seen again before it expires, then it is a replay; once expired, it is forgotten', () => {
    const cache = new ReplayCache({ maxEntries: 10 });
    assert.deepEqual(cache.remember('n1', start + 35_000, start), { kind: 'fresh' });
    assert.deepEqual(cache.remember('n1', start + 35_000, start + 20_000), { kind: 'replayed' });
    assert.deepEqual(cache.remember('n1', start + 35_000, start + 35_000), { kind: 'replayed' });
    assert.deepEqual(cache.remember('n2', start + 40_000, start + 35_001), { kind: 'fresh' });
    assert.equal(cache.size, 1, 'the expired nonce was dropped');
  });

  test('when the cache holds its cap of unexpired nonces, then a new one is refused with the seconds until room, and the cap is never exceeded', () => {
    const cache = new ReplayCache({ maxEntries: 1000 });
    for (let index = 0; index < 1000; index += 1) assert.equal(cache.remember(`n${String(index)}`, start + 30_000 + (index % 5) * 1000, start).kind, 'fresh');
    for (let index = 0; index < 500; index += 1) {
      assert.deepEqual(cache.remember(`extra-${String(index)}`, start + 35_000, start + 10_000), { kind: 'full', retryAfterSeconds: 20 });
    }
    assert.equal(cache.size, 1000);
    assert.deepEqual(cache.remember('n3', start + 33_000, start + 10_000), { kind: 'replayed' }, 'a replay is still recognised when full');
    // The first group (200 nonces) expires: room for exactly 200.
    for (let index = 0; index < 200; index += 1) assert.equal(cache.remember(`later-${String(index)}`, start + 60_000, start + 30_001).kind, 'fresh');
    assert.equal(cache.remember('one-too-many', start + 60_000, start + 30_001).kind, 'full');
    assert.equal(cache.size, 1000);
  });
});
