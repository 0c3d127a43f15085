import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { echoed, maxEchoedCharacters } from './echoed-text.ts';

describe('echoed', () => {
  test('when a value is at most the excerpt length, then it is quoted whole', () => {
    assert.equal(echoed('EURO'), 'EURO');
    const longest = 'a'.repeat(maxEchoedCharacters);
    assert.equal(echoed(longest), longest);
  });

  test('when a value is longer, then its start is quoted with an ellipsis and its length', () => {
    assert.equal(echoed('b'.repeat(5_000_000)), `${'b'.repeat(maxEchoedCharacters)}… (5000000 characters)`);
  });

  test('when the cut falls inside a surrogate pair, then the half character is left out', () => {
    const value = `${'c'.repeat(maxEchoedCharacters - 1)}😀${'d'.repeat(10)}`;
    assert.equal(echoed(value), `${'c'.repeat(maxEchoedCharacters - 1)}… (${value.length} characters)`);
  });
});
