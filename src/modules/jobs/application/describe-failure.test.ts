import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeFailure } from './describe-failure.ts';

describe('describeFailure', () => {
  test('when a message quotes a NUL from the file, then the line writes it as \\0, so the job can still record it', () => {
    assert.equal(describeFailure(new Error('bad value "a\u0000b"')), 'Error: bad value "a\\0b"');
  });

  test('when a message is long, then the line is cut to 1,000 characters', () => {
    assert.equal(describeFailure('x'.repeat(2000)).length, 1000);
  });
});
