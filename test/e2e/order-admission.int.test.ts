import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { sampleValue } from '../../src/platform/testing/prometheus-text.ts';
import { eventually, placeOrder, startFulfilment, stockProduct, waitForTerminal, type FulfilmentHarness } from './harness/fulfilment-harness.ts';

// The whole single process with room for two unfinished orders; tok_slow holds each saga at the
// payment authorisation for two seconds, so the backlog stays full while the test sends more.
let harness: FulfilmentHarness;
before(async () => {
  harness = await startFulfilment({ ORDER_BACKLOG_LIMIT: '2', SIMULATED_PAYMENT_DELAY_MS: '2000' }, { registerWebhook: false });
  await stockProduct(harness.orderstream, 'ADMIT-1', 100);
});
after(async () => { await harness.close(); });

const items = [{ sku: 'ADMIT-1', quantity: 1 }];

async function metric(name: string): Promise<number | undefined> {
  return sampleValue((await harness.orderstream.metrics.exposition()).body, name);
}

async function writtenFor(key: string): Promise<{ orders: number; keys: number }> {
  const [orders, keys] = await Promise.all([
    sql<{ count: number }>`select count(*)::int as count from orders.orders`.execute(harness.db),
    sql<{ count: number }>`select count(*)::int as count from orders.idempotency_keys where key = ${key}`.execute(harness.db),
  ]);
  return { orders: orders.rows[0]?.count ?? -1, keys: keys.rows[0]?.count ?? -1 };
}

describe('POST /v1/orders admission control', () => {
  test('when the unfinished orders reach ORDER_BACKLOG_LIMIT, then a new order gets 503 with Retry-After and writes nothing, a replay still gets its order, and once the sagas finish the same key is accepted', async () => {
    const firstKey = crypto.randomUUID();
    const first = await placeOrder(harness.orderstream, 'cus_admit', items, 'tok_slow', firstKey);
    const second = await placeOrder(harness.orderstream, 'cus_admit', items, 'tok_slow');
    assert.equal(first.statusCode, 202, first.body);
    assert.equal(second.statusCode, 202, second.body);
    const placedIds = [first.json<{ id: string }>().id, second.json<{ id: string }>().id];

    const refusedKey = crypto.randomUUID();
    const refused = await placeOrder(harness.orderstream, 'cus_admit', items, 'tok_visa', refusedKey);
    assert.equal(refused.statusCode, 503, refused.body);
    assert.equal(refused.headers['retry-after'], '1');
    assert.match(String(refused.headers['content-type']), /^application\/problem\+json/);
    assert.equal(refused.json<{ type: string }>().type, 'https://orderstream.dev/problems/overloaded');
    assert.deepEqual(await writtenFor(refusedKey), { orders: 2, keys: 0 });

    const replay = await placeOrder(harness.orderstream, 'cus_admit', items, 'tok_slow', firstKey);
    assert.equal(replay.statusCode, 202, replay.body);
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    assert.deepEqual(replay.json(), first.json());

    assert.equal(await metric('orderstream_orders_refused_total'), 1);
    assert.equal(await metric('orderstream_order_backlog_limit'), 2);

    // The orders already accepted keep going through their sagas.
    const outcomes = await waitForTerminal(harness.db, placedIds, 30_000);
    assert.deepEqual([...outcomes.values()].map((outcome) => outcome.status), ['CONFIRMED', 'CONFIRMED']);
    await eventually(async () => (await metric('orderstream_order_backlog')) === 0, 'the backlog sampler to count the drained backlog', 5000);

    const retried = await placeOrder(harness.orderstream, 'cus_admit', items, 'tok_visa', refusedKey);
    assert.equal(retried.statusCode, 202, retried.body);
    assert.equal(retried.headers['idempotent-replayed'], undefined);
    assert.deepEqual(await writtenFor(refusedKey), { orders: 3, keys: 1 });
    assert.equal(await metric('orderstream_orders_refused_total'), 1);
  });
});
