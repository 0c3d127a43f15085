import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { createLogger } from '../../../../platform/logging/logger.ts';
import { createEnvelope, messagingMigrations, type MessageConsumer } from '../../../../platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import { paymentsMessages, paymentsMigrations } from '../../index.ts';
import { anAuthorizeCommand } from '../../testing/payment-builders.ts';
import { paymentCommandsConsumer } from './payment-commands-consumer.ts';

/**
 * The payments command consumer against PostgreSQL with two deliveries in flight at once, as two
 * consumer groups (or a retry and a first delivery) hand them over.
 */
let db: Database;
let drop: () => Promise<void>;
let consumer: MessageConsumer;

before(async () => {
  ({ db, drop } = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, paymentsMigrations]));
  consumer = paymentCommandsConsumer({ logger: createLogger({ level: 'silent' }), wakeWorker: () => undefined });
});
after(async () => {
  await drop();
});

/** Handles a command in its own transaction, which stays open until `commit` is called. */
function handleUncommitted(type: string, payload: object): { handled: Promise<void>; commit: () => void; committed: Promise<void> } {
  let commit = (): void => undefined;
  const release = new Promise<void>((resolve) => { commit = resolve; });
  let handled = (): void => undefined;
  const handledPromise = new Promise<void>((resolve) => { handled = resolve; });
  const envelope = createEnvelope({ type, version: 1, key: (payload as { orderId: string }).orderId, payload });
  const committed = db.transaction().execute(async (transaction) => {
    await consumer.handle(envelope, transaction);
    handled();
    await release;
  });
  return { handled: handledPromise, commit, committed };
}

async function operationsOf(orderId: string): Promise<string[]> {
  const rows = await sql<{ kind: string }>`select kind from payments.operations where order_id = ${orderId} order by id`.execute(db);
  return rows.rows.map((row) => row.kind);
}

describe('payments.commands with deliveries of one order in flight at once', () => {
  test('when a void arrives while the authorisation\'s transaction is still open, then it waits for that commit and is queued after the authorisation', async () => {
    const command = anAuthorizeCommand();
    const authorization = handleUncommitted(paymentsMessages.authorizePayment.type, command);
    await authorization.handled;
    const voiding = handleUncommitted(paymentsMessages.voidPayment.type, { orderId: command.orderId });
    const waited = await Promise.race([voiding.handled.then(() => false), new Promise<boolean>((resolve) => { setTimeout(() => { resolve(true); }, 300); })]);
    assert.equal(waited, true, 'the void was recorded while the authorisation was uncommitted: a worker could run it before anything is held');
    authorization.commit();
    await authorization.committed;
    await voiding.handled;
    voiding.commit();
    await voiding.committed;
    assert.deepEqual(await operationsOf(command.orderId), ['authorize', 'void']);
  });

  test('when the authorisation arrives while a void\'s transaction is still open, then it sees the void once committed and holds nothing', async () => {
    const command = anAuthorizeCommand();
    const voiding = handleUncommitted(paymentsMessages.voidPayment.type, { orderId: command.orderId });
    await voiding.handled;
    const authorization = handleUncommitted(paymentsMessages.authorizePayment.type, command);
    await new Promise((resolve) => setTimeout(resolve, 100));
    voiding.commit();
    await voiding.committed;
    await authorization.handled;
    authorization.commit();
    await authorization.committed;
    assert.deepEqual(await operationsOf(command.orderId), ['void']);
    const payment = await sql<{ status: string }>`select status from payments.payments where order_id = ${command.orderId}`.execute(db);
    assert.deepEqual(payment.rows, [{ status: 'voided' }]);
  });

  test('when deliveries of different orders are in flight at once, then neither waits for the other', async () => {
    const first = handleUncommitted(paymentsMessages.authorizePayment.type, anAuthorizeCommand());
    await first.handled;
    const second = handleUncommitted(paymentsMessages.voidPayment.type, { orderId: anAuthorizeCommand().orderId });
    await second.handled;
    second.commit();
    first.commit();
    await Promise.all([first.committed, second.committed]);
  });
});
