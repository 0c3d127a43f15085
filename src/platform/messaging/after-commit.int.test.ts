import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Database } from '../database/database.ts';
import { createLogger } from '../logging/logger.ts';
import { createTestDatabase, embeddedServerUrl } from '../testing/test-database.ts';
import { createEnvelope } from './envelope.ts';
import { InProcessTransport, createMessaging, messagingMigrations, type Envelope } from './index.ts';

let db: Database;
let drop: () => Promise<void>;
before(async () => {
  ({ db, drop } = await createTestDatabase(embeddedServerUrl(), [messagingMigrations]));
});
after(async () => { await drop(); });

test('when a consumer handled a message, then afterCommit runs once, and not for a redelivery', async () => {
  const transport = new InProcessTransport();
  const messaging = createMessaging({ db, transport, logger: createLogger({ level: 'silent' }), retryPolicy: { maxAttempts: 2, baseDelayMs: 10 }, pollIntervalMs: 1000 });
  const committed: Envelope[] = [];
  messaging.register({ name: 'waker', types: ['test.poked'], handle: () => Promise.resolve(), afterCommit: (envelope) => { committed.push(envelope); } });
  const envelope = createEnvelope({ type: 'test.poked', version: 1, key: 'k', payload: {} });
  await transport.publish([{ topic: 'orderstream.test.v1', envelope }]);
  await transport.publish([{ topic: 'orderstream.test.v1', envelope }]);
  assert.deepEqual(committed.map((message) => message.id), [envelope.id]);
});
