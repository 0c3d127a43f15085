import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../../../../platform/logging/logger.ts';
import {
  appendToOutbox, createEnvelope, createMessaging, InProcessTransport, listDeadLetters, messagingMigrations,
} from '../../../../platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import { paymentsMessages } from '../../../payments/index.ts';
import type { AdvanceSaga } from '../../application/advance-saga.ts';
import { sagaConsumer } from './saga-consumer.ts';

describe('sagaConsumer', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;

  before(async () => {
    database = await createTestDatabase(embeddedServerUrl(), [messagingMigrations]);
  });

  after(async () => {
    await database.drop();
  });

  test('when an event payload breaks the contract, then the saga never sees it and it ends as a dead letter saying why', async () => {
    const advanced: string[] = [];
    // Only `execute` is reached by the consumer; the saga's rules have their own tests.
    const advanceSaga = {
      execute: (_store: unknown, orderId: string) => { advanced.push(orderId); return Promise.resolve(() => undefined); },
    } as unknown as AdvanceSaga;
    const messaging = createMessaging({
      db: database.db, transport: new InProcessTransport(), logger: createLogger({ level: 'silent' }),
      retryPolicy: { maxAttempts: 2, baseDelayMs: 10 }, pollIntervalMs: 20,
    });
    messaging.register(sagaConsumer(advanceSaga));
    await messaging.start();
    const envelope = createEnvelope({ ...paymentsMessages.captured, key: 'ord_1', payload: { orderId: 'ord_1', amount: 'all of it' } });
    try {
      await database.db.transaction().execute((transaction) => appendToOutbox(transaction, [envelope]));
      const deadline = Date.now() + 20_000;
      while (!(await listDeadLetters(database.db, { limit: 10 })).some((letter) => letter.messageId === envelope.id)) {
        if (Date.now() > deadline) assert.fail('the malformed event was never dead-lettered');
        await sleep(20);
      }
    } finally {
      await messaging.stop();
    }

    const letters = await listDeadLetters(database.db, { limit: 10 });
    assert.equal(letters.length, 1);
    const [letter] = letters;
    assert.ok(letter);
    assert.equal(letter.consumer, 'orders.saga');
    assert.equal(letter.attempts, 2);
    assert.match(letter.lastError, /payments\.captured .* malformed payload[\s\S]*paymentId/);
    assert.deepEqual(advanced, []);
  });
});
