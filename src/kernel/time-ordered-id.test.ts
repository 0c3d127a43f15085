import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { TimeOrderedIds } from './time-ordered-id.ts';

const uuidV7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** A clock's readings one after another: forward, standing still, or set back. */
const clockSteps = fc.array(fc.integer({ min: -5_000, max: 5_000 }), { minLength: 1, maxLength: 300 });

/** The milliseconds an id carries in its first 48 bits. */
function millisecondsOf(id: string): number {
  return Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16);
}

describe('TimeOrderedIds', () => {
  test('when ids are made one after another, whatever the clock does, then each is a version 7 UUID after the one before', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 44 }), clockSteps, fc.array(fc.nat({ max: 8 }), { minLength: 1 }), (start, steps, repeats) => {
      let now = start;
      const ids = new TimeOrderedIds({ now: () => now });
      let previous = '';
      steps.forEach((step, index) => {
        now = Math.max(0, now + step);
        // Several ids in one millisecond, as a batch makes them.
        for (let made = 0; made <= (repeats[index % repeats.length] ?? 0); made += 1) {
          const id = ids.next();
          assert.match(id, uuidV7);
          assert.ok(id > previous, `${id} sorts after ${previous}`);
          previous = id;
        }
      });
    }));
  });

  test('when the clock moves on, then the id carries its milliseconds', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 47 }), (ms) => {
      assert.equal(millisecondsOf(new TimeOrderedIds({ now: () => ms }).next()), ms);
    }));
  });

  test('when more ids are made in one millisecond than its sequence holds, then they carry on into the next and stay in order', () => {
    const ids = new TimeOrderedIds({ now: () => 1_000, random: (bytes) => { bytes.fill(0xff); } });
    const made = Array.from({ length: 5_000 }, () => ids.next());
    assert.deepEqual([...made].sort(), made);
    assert.equal(new Set(made).size, made.length);
    assert.ok(millisecondsOf(made.at(-1) ?? '') > 1_000);
  });

  test('when two generators make ids at the same instant, then the random bits keep them apart', () => {
    const made = new Set(Array.from({ length: 1_000 }, () => new TimeOrderedIds({ now: () => 42 }).next()));
    assert.equal(made.size, 1_000);
  });
});
