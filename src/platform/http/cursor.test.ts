import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { HttpProblem } from './problem.ts';

const asCursor = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Asserts that decoding `text` throws the 400 problem naming `field`. */
function assertRejected(text: string, field = 'cursor'): void {
  assert.throws(() => decodeCursor(text, field), (error: unknown) => {
    assert.ok(error instanceof HttpProblem);
    assert.equal(error.status, 400);
    assert.equal(error.slug, 'validation-error');
    assert.equal(error.detail, 'The cursor is not valid; use the nextCursor of a previous page');
    assert.deepEqual(error.errors, [{ location: 'querystring', field, message: 'is not valid' }]);
    return true;
  });
}

describe('keyset cursor', () => {
  test('when a position is encoded and decoded, then the same position comes back from a URL-safe string', () => {
    const position = { createdAt: new Date('2025-03-04T05:06:07.089Z'), id: 'prod_01/+=' };
    const cursor = encodeCursor(position);
    assert.match(cursor, /^[A-Za-z0-9_-]+$/);
    assert.deepEqual(decodeCursor(cursor), position);
  });

  test('when the cursor is not base64url JSON, then it is a 400 problem naming the field', () => {
    assertRejected('not-a-cursor');
    assertRejected('%%%', 'after');
  });

  test('when the cursor is JSON of the wrong shape, then it is a 400 problem', () => {
    for (const value of [{ createdAt: '2025-01-01T00:00:00.000Z', id: 'x' }, ['2025-01-01T00:00:00.000Z'], ['2025-01-01T00:00:00.000Z', 7], ['2025-01-01T00:00:00.000Z', 'x', 'y'], null]) {
      assertRejected(asCursor(value));
    }
  });

  test('when the cursor carries a date that is not one, then it is a 400 problem', () => {
    assertRejected(asCursor(['yesterday-ish', 'prod_1']));
  });
});
