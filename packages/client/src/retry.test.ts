import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fakeFetch, json, problem } from './fake-fetch.ts';
import { mayRetry, retryAfterMs, withRetries } from './retry.ts';

const base = 'http://orderstream.test';

function recordingSleep() {
  const waits: number[] = [];
  return { waits, sleep: (ms: number) => { waits.push(ms); return Promise.resolve(); } };
}

describe('withRetries', () => {
  test('when a GET is answered 503 with Retry-After: 2, then it waits 2 s and answers the next try', async () => {
    const server = fakeFetch((_, index) => (index === 0 ? problem(503, 'overloaded', {}, { 'retry-after': '2' }) : json(200, { ok: true })));
    const { waits, sleep } = recordingSleep();
    const response = await withRetries(server.fetch, { sleep })(new Request(`${base}/v1/orders`));
    assert.equal(response.status, 200);
    assert.deepEqual(waits, [2000]);
    assert.equal(server.seen.length, 2);
  });

  test('when a 429 names a date, then the wait is counted to that date', async () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const server = fakeFetch((_, index) => (index === 0 ? problem(429, 'rate-limited', {}, { 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }) : json(200, {})));
    const { waits, sleep } = recordingSleep();
    await withRetries(server.fetch, { sleep, now: () => now })(new Request(`${base}/v1/products`));
    assert.deepEqual(waits, [5000]);
  });

  test('when a POST has no Idempotency-Key, then a 503 is answered as is and never sent again', async () => {
    const server = fakeFetch(() => problem(503, 'overloaded', {}, { 'retry-after': '1' }));
    const { waits, sleep } = recordingSleep();
    const response = await withRetries(server.fetch, { sleep })(new Request(`${base}/v1/imports`, { method: 'POST', body: 'x' }));
    assert.equal(response.status, 503);
    assert.equal(server.seen.length, 1);
    assert.deepEqual(waits, []);
  });

  test('when a POST with an Idempotency-Key meets 503 twice, then the same body and key are sent three times', async () => {
    const server = fakeFetch((_, index) => (index < 2 ? problem(503, 'overloaded', {}, { 'retry-after': '0' }) : json(202, { id: 'ord_1' })));
    const { sleep } = recordingSleep();
    const request = new Request(`${base}/v1/orders`, { method: 'POST', headers: { 'idempotency-key': 'key-1' }, body: '{"a":1}' });
    const response = await withRetries(server.fetch, { sleep })(request);
    assert.equal(response.status, 202);
    assert.deepEqual(server.seen.map((seen) => [seen.headers.get('idempotency-key'), seen.body]), [['key-1', '{"a":1}'], ['key-1', '{"a":1}'], ['key-1', '{"a":1}']]);
  });

  test('when every try is refused, then the last response is answered after `attempts` tries, backing off without Retry-After', async () => {
    const server = fakeFetch(() => problem(429, 'rate-limited'));
    const { waits, sleep } = recordingSleep();
    const response = await withRetries(server.fetch, { sleep, attempts: 3, baseDelayMs: 100 })(new Request(`${base}/v1/orders`));
    assert.equal(response.status, 429);
    assert.equal(server.seen.length, 3);
    assert.deepEqual(waits, [100, 200]);
  });

  test('when Retry-After is longer than maxDelayMs, then the response is answered rather than waited for', async () => {
    const server = fakeFetch(() => problem(503, 'overloaded', {}, { 'retry-after': '600' }));
    const response = await withRetries(server.fetch, { sleep: recordingSleep().sleep, maxDelayMs: 10_000 })(new Request(`${base}/v1/orders`));
    assert.equal(response.status, 503);
    assert.equal(server.seen.length, 1);
  });

  test('when a 500 or 400 comes, then it is not retried', async () => {
    for (const status of [400, 500]) {
      const server = fakeFetch(() => problem(status, 'x'));
      const response = await withRetries(server.fetch, { sleep: recordingSleep().sleep })(new Request(`${base}/v1/orders`));
      assert.equal(response.status, status);
      assert.equal(server.seen.length, 1);
    }
  });

  test('when the network fails once on a GET, then it is tried again', async () => {
    let calls = 0;
    const fetch = (request: Request) => { calls += 1; return calls === 1 ? Promise.reject(new TypeError('fetch failed')) : Promise.resolve(json(200, { url: request.url })); };
    const response = await withRetries(fetch, { sleep: recordingSleep().sleep })(new Request(`${base}/v1/orders`));
    assert.equal(response.status, 200);
    assert.equal(calls, 2);
  });
});

describe('mayRetry and retryAfterMs', () => {
  test('when asked, then GET, PUT and DELETE may be retried, POST only with an Idempotency-Key', () => {
    assert.equal(mayRetry(new Request(base, { method: 'GET' })), true);
    assert.equal(mayRetry(new Request(base, { method: 'PUT', body: '' })), true);
    assert.equal(mayRetry(new Request(base, { method: 'DELETE' })), true);
    assert.equal(mayRetry(new Request(base, { method: 'POST', body: '' })), false);
    assert.equal(mayRetry(new Request(base, { method: 'POST', body: '', headers: { 'idempotency-key': 'k' } })), true);
  });

  test('when the header is absent or unreadable, then undefined; a past date, then 0', () => {
    assert.equal(retryAfterMs(null, 0), undefined);
    assert.equal(retryAfterMs('soon', 0), undefined);
    assert.equal(retryAfterMs('3', 0), 3000);
    assert.equal(retryAfterMs('Thu, 01 Jan 1970 00:00:01 GMT', 5000), 0);
  });
});
