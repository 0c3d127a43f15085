import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../platform/config/config.ts';
import { messagingRetryLeaseMs, outboxNotifyOf } from './modules.ts';

describe('messagingRetryLeaseMs', () => {
  test('when DATABASE_STATEMENT_TIMEOUT_MS is left alone, then a retry lease is 5 minutes', () => {
    assert.equal(messagingRetryLeaseMs(loadConfig({})), 300_000);
  });

  test('when DATABASE_STATEMENT_TIMEOUT_MS is raised to 10 minutes, then a retry lease is 20 minutes', () => {
    assert.equal(messagingRetryLeaseMs(loadConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '600000' })), 1_200_000);
  });
});

describe('outboxNotifyOf', () => {
  test('when OUTBOX_NOTIFY is left at auto, then the whole process wakes its relay in-process and the api and worker roles, which share a database, send NOTIFY', () => {
    const config = loadConfig({});
    assert.deepEqual((['all', 'api', 'worker'] as const).map((role) => outboxNotifyOf(config, role)), ['in-process', 'postgres', 'postgres']);
  });

  test('when OUTBOX_NOTIFY is set, then every role follows it', () => {
    assert.deepEqual((['all', 'api', 'worker'] as const).map((role) => outboxNotifyOf(loadConfig({ OUTBOX_NOTIFY: 'postgres' }), role)), ['postgres', 'postgres', 'postgres']);
    assert.equal(outboxNotifyOf(loadConfig({ OUTBOX_NOTIFY: 'in-process' }), 'api'), 'in-process');
  });
});
