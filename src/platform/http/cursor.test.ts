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

describe('keyset cursor dates and ids', () => {
  test('when the cursor carries a date PostgreSQL cannot store or no page could start at, then it is a 400 problem', () => {
    for (const timestamp of ['-271821-04-20T00:00:00.000Z', '+275760-09-13T00:00:00.000Z', '-004714-01-01T00:00:00.000Z', '1969-12-31T23:59:59.999Z', '2025-02-30T00:00:00.000Z', '2025-01-01']) {
      assertRejected(asCursor([timestamp, 'prod_1']));
    }
  });

  test('when the cursor carries an empty id, an id with a NUL, or an id longer than 200 characters, then it is a 400 problem', () => {
    for (const id of ['', 'prod\u00001', 'p'.repeat(201)]) assertRejected(asCursor(['2025-01-01T00:00:00.000Z', id]));
  });

  test('when the cursor carries the first and the last date it may, then both are kept', () => {
    for (const timestamp of ['1970-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z']) {
      assert.equal(decodeCursor(asCursor([timestamp, 'p'.repeat(200)])).createdAt.toISOString(), timestamp);
    }
  });
});
