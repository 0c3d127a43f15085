import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { hasMalformedQuery, loneSurrogateMessage, nulCharacterErrors, nulCharacterMessage } from './request-text.ts';

describe('NUL characters in a request', () => {
  test('when no text holds a NUL, then there is no error', () => {
    assert.deepEqual(nulCharacterErrors({ params: { id: 'p-1' }, querystring: { q: 'shoes' }, body: { items: [{ sku: 'A', quantity: 1 }], note: null } }), []);
  });

  test('when strings deep in the body, a parameter and a query value hold a NUL, then each is named like a schema field', () => {
    const errors = nulCharacterErrors({
      params: { id: 'p\u00001' }, querystring: { q: '\u0000' },
      body: { items: [{ sku: 'A' }, { sku: 'B\u0000' }], payment: { token: 'tok' } },
    });
    assert.deepEqual(errors, [
      { location: 'params', field: 'id', message: nulCharacterMessage },
      { location: 'querystring', field: 'q', message: nulCharacterMessage },
      { location: 'body', field: 'items.1.sku', message: nulCharacterMessage },
    ]);
  });

  test('when a string or a key holds a lone surrogate, then it is reported as not well-formed Unicode, while a surrogate pair (an emoji) passes', () => {
    const errors = nulCharacterErrors({ body: { name: 'caf\uD800e', note: 'ok \u{1F600}', ['k\uDFFF']: 'x', tail: '\uDBFF' } });
    assert.deepEqual(errors.map((error) => [error.field, error.message]).sort(), [
      ['k\uFFFD', `its name ${loneSurrogateMessage}`], ['name', loneSurrogateMessage], ['tail', loneSurrogateMessage],
    ]);
  });

  test('when a key of the body holds a NUL, then it is reported, escaped', () => {
    assert.deepEqual(nulCharacterErrors({ body: { 'a\u0000b': 1 } }), [{ location: 'body', field: 'a\\u0000b', message: `its name ${nulCharacterMessage}` }]);
  });

  test('when the body is a buffer or a stream, then it is not read', () => {
    assert.deepEqual(nulCharacterErrors({ body: Buffer.from('\u0000') }), []);
    assert.deepEqual(nulCharacterErrors({ body: Readable.from(['\u0000']) }), []);
  });

  test('when records without a prototype chain hold a NUL, then they are read like JSON objects', () => {
    const record = Object.create(Object.create(null) as object) as Record<string, string>;
    record.q = 'x\u0000';
    assert.equal(nulCharacterErrors({ querystring: record }).length, 1);
  });

  test('when the body is nested far deeper than the call stack allows, then the NUL at its bottom is still found', () => {
    let body: unknown = '\u0000';
    for (let depth = 0; depth < 100_000; depth += 1) body = [body];
    assert.equal(nulCharacterErrors({ body }).length, 1);
  });

  test('when thousands of strings hold a NUL, then 20 are reported', () => {
    assert.equal(nulCharacterErrors({ body: Array.from({ length: 5000 }, () => '\u0000') }).length, 20);
  });
});

describe('percent-encoding of a query', () => {
  test('when every % starts UTF-8 bytes, or there is no query, then it is well formed', () => {
    for (const url of ['/v1/products', '/v1/products?q=caf%C3%A9&limit=5', '/v1/products?q=100%25', '/v1/products?q=a+b']) assert.equal(hasMalformedQuery(url), false, url);
  });

  test('when a % is not followed by two hex digits, or the bytes are not UTF-8, then it is malformed', () => {
    for (const url of ['/v1/products?q=%zz', '/v1/products?q=a%', '/v1/products?%zz=1', '/v1/products?q=%ff', '/v1/products?q=%E0%A4%A']) assert.equal(hasMalformedQuery(url), true, url);
  });
});
