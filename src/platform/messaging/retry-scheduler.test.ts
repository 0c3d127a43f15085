import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultRetryLeaseMs, retryLeaseMs } from './retry-scheduler.ts';

describe('retryLeaseMs', () => {
  test('when the statement timeout is the default 30 s, then the lease stays 5 minutes', () => {
    assert.equal(defaultRetryLeaseMs, 300_000);
    assert.equal(retryLeaseMs(30_000), 300_000);
  });

  test('when two statement timeouts exceed 5 minutes, then the lease is two statement timeouts', () => {
    assert.equal(retryLeaseMs(150_000), 300_000);
    assert.equal(retryLeaseMs(600_000), 1_200_000);
  });
});
