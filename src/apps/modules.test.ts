import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../platform/config/config.ts';
import { messagingRetryLeaseMs } from './modules.ts';

describe('messagingRetryLeaseMs', () => {
  test('when DATABASE_STATEMENT_TIMEOUT_MS is left alone, then a retry lease is 5 minutes', () => {
    assert.equal(messagingRetryLeaseMs(loadConfig({})), 300_000);
  });

  test('when DATABASE_STATEMENT_TIMEOUT_MS is raised to 10 minutes, then a retry lease is 20 minutes', () => {
    assert.equal(messagingRetryLeaseMs(loadConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '600000' })), 1_200_000);
  });
});
