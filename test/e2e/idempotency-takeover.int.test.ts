import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { createDatabase, type Database } from '../../src/platform/database/database.ts';
import { holdTableLock } from '../../src/platform/testing/table-lock.ts';
import { eventually, placeOrder, startFulfilment, stockOf, stockProduct, waitForTerminal, type FulfilmentHarness } from './harness/fulfilment-harness.ts';

// The defect this guards against: a table lock stalled the first POST /v1/orders past the takeover
// time, a retry with the same Idempotency-Key got its own 202, and both orders were captured. Since
// the key is taken by the statement that places the order, nothing is held while a request stalls,
// and the takeover time concerns only claims left by earlier versions.

let harness: FulfilmentHarness;
let outsider: Database; // another client of the database, holding the lock that stalls the requests

before(async () => {
  harness = await startFulfilment({ IDEMPOTENCY_TAKEOVER_SECONDS: '1' });
  outsider = createDatabase({ url: harness.databaseUrl, poolSize: 2 }); // one holds the lock, one watches who waits for it
});
after(async () => {
  await outsider.destroy();
  await harness.close();
});

test('when a lock stalls POST /v1/orders past the takeover time and a retry with the same Idempotency-Key arrives, then one order is placed and captured, and both requests answer it', async () => {
  await stockProduct(harness.orderstream, 'TAKEOVER-1', 5);
  const items = [{ sku: 'TAKEOVER-1', quantity: 2 }];
  const key = crypto.randomUUID();
  const lock = await holdTableLock(outsider, 'orders.orders');
  try {
    const first = placeOrder(harness.orderstream, 'cus_takeover', items, 'tok_visa', key);
    await eventually(async () => (await lock.waiting()) === 1, 'the first request to stall on the lock', 10_000);
    await sleep(1300);
    const retry = placeOrder(harness.orderstream, 'cus_takeover', items, 'tok_visa', key);
    await eventually(async () => (await lock.waiting()) === 2, 'the retry to stall too', 10_000);
    await lock.release();

    const responses = [await first, await retry];
    for (const response of responses) assert.equal(response.statusCode, 202, response.body);
    const orderId = responses[0]!.json<{ id: string }>().id;
    assert.equal(responses[1]!.json<{ id: string }>().id, orderId);
    assert.deepEqual(responses.map((response) => response.headers['idempotent-replayed'] ?? 'own').sort(), ['own', 'true']);

    const placed = await sql<{ id: string }>`select id from orders.orders where customer_id = 'cus_takeover'`.execute(harness.db);
    assert.deepEqual(placed.rows.map((row) => row.id), [orderId]);
    assert.equal((await waitForTerminal(harness.db, [orderId])).get(orderId)?.status, 'CONFIRMED');
    const captures = await sql<{ count: number }>`
      select count(*)::int as count from payments.provider_calls
      where operation = 'capture' and order_id in (select id from orders.orders where customer_id = 'cus_takeover')`.execute(harness.db);
    assert.equal(captures.rows[0]?.count, 1);
    assert.deepEqual(await stockOf(harness.orderstream, 'TAKEOVER-1'), { sku: 'TAKEOVER-1', onHand: 3, reserved: 0, available: 3 });

    const later = await placeOrder(harness.orderstream, 'cus_takeover', items, 'tok_visa', key);
    assert.equal(later.statusCode, 202);
    assert.deepEqual([later.json<{ id: string }>().id, later.headers['idempotent-replayed']], [orderId, 'true']);
  } finally {
    await lock.release();
  }
});
