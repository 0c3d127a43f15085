import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { createLogger } from '../../../../platform/logging/logger.ts';
import { messagingMigrations, type MessageConsumer } from '../../../../platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import { createInventoryModule, inventoryMessages, inventoryMigrations } from '../../index.ts';
import { aCommandEnvelope, deliver, putStock, reservationStatusOf, stockOf } from '../../testing/inventory-database.ts';
import { anOrderId } from '../../testing/inventory-builders.ts';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let consumers: MessageConsumer[];

before(async () => {
  database = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, inventoryMigrations]);
  consumers = createInventoryModule({ db: database.db, logger: createLogger({ level: 'silent' }), reservationTtlSeconds: 900 }).consumers;
});
after(async () => { await database.drop(); });

test('when a release runs while the same order\'s reserve is still committing, then the release is tried again and frees what the reserve took', async () => {
  await putStock(database.db, 'RACE-1', 5);
  const orderId = anOrderId();
  const reserve = aCommandEnvelope('reserveStock', { orderId, lines: [{ sku: 'RACE-1', quantity: 2 }] });
  const reserveConsumer = consumers.find((consumer) => consumer.types.includes(inventoryMessages.reserveStock.type));
  assert.ok(reserveConsumer !== undefined);

  // The reserve has made its reservation but not committed yet (on Kafka inventory's consumers
  // apply their parts of a batch side by side, so the two can run at the same moment).
  let commitReserve!: () => void;
  const reserveMayCommit = new Promise<void>((resolve) => { commitReserve = resolve; });
  let reserved!: () => void;
  const reserveHasRun = new Promise<void>((resolve) => { reserved = resolve; });
  const reserving = database.db.transaction().execute(async (transaction) => {
    await reserveConsumer.handle(reserve, transaction);
    reserved();
    await reserveMayCommit;
  });
  await reserveHasRun;

  const release = aCommandEnvelope('releaseStock', { orderId, reason: 'cancelled by request' });
  const firstRelease = deliver(database.db, consumers, release).then(() => undefined, (error: unknown) => error);
  await sleep(300); // the release has read no reservation and waits on the reserve's row
  commitReserve();
  await reserving;

  const failure = await firstRelease;
  assert.ok(failure instanceof Error && failure.name === 'ReservationAppearedError', `expected the release to be tried again, got ${String(failure)}`);
  assert.deepEqual(await stockOf(database.db, 'RACE-1'), { onHand: 5, reserved: 2 });

  // Delivered again, as the retry does: it finds the reservation and gives its units back.
  assert.equal(await deliver(database.db, consumers, release), 'handled');
  assert.deepEqual(await stockOf(database.db, 'RACE-1'), { onHand: 5, reserved: 0 });
  assert.equal(await reservationStatusOf(database.db, orderId), 'released');
});
