import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { anOrderRequest, mugProduct, teaProduct } from '../testing/order-builder.ts';
import { InMemoryOrders } from '../testing/in-memory-orders.ts';
import { IdempotencyKeyReusedError } from './idempotency.errors.ts';
import { OrderAdmission, OrderBacklogFullError } from './order-admission.ts';
import { PlaceOrder, type PlaceOrderInput } from './place-order.ts';
import { noOrderMetrics } from './report-transition.ts';

/** An admission over a backlog the test sets, on a clock the test moves. */
function anAdmission(options: { limit: number; unfinished?: number; staleAfterMs?: number; backlogSeconds?: number; floor?: number }) {
  const backlog = { unfinished: options.unfinished ?? 0 };
  let clockMs = 0;
  const reported: string[] = [];
  const admission = new OrderAdmission({
    orders: { countUnfinished: () => Promise.resolve(backlog.unfinished) },
    limit: options.limit, staleAfterMs: options.staleAfterMs ?? 5000, clock: () => clockMs,
    ...(options.backlogSeconds === undefined ? {} : { backlogSeconds: options.backlogSeconds }),
    ...(options.floor === undefined ? {} : { floor: options.floor }),
    metrics: {
      ...noOrderMetrics,
      backlogSampled: (unfinished, limit) => { reported.push(`${String(unfinished)} of ${String(limit)}`); },
    },
  });
  return { admission, backlog, reported, advance: (ms: number) => { clockMs += ms; } };
}

describe('the admission decision', () => {
  test('when the counted backlog is below the limit, then a new order is admitted; at the limit, it is refused with a Retry-After of 1 s', async () => {
    const { admission, backlog } = anAdmission({ limit: 3, unfinished: 2 });
    await admission.sample();
    assert.equal(admission.refusal(), undefined);

    backlog.unfinished = 3;
    await admission.sample();
    const refusal = admission.refusal();
    assert.ok(refusal instanceof OrderBacklogFullError);
    assert.equal(refusal.backlog, 3);
    assert.equal(refusal.limit, 3);
    assert.equal(refusal.retryAfterSeconds, 1);
  });

  test('when orders are placed between two counts, then they count towards the limit until the next count replaces them', async () => {
    const { admission, backlog } = anAdmission({ limit: 3, unfinished: 1 });
    await admission.sample();
    admission.placed();
    assert.equal(admission.backlog(), 2);
    assert.equal(admission.refusal(), undefined);
    admission.placed();
    assert.equal(admission.backlog(), 3);
    assert.ok(admission.refusal() instanceof OrderBacklogFullError);

    // The sagas finished all three meanwhile.
    backlog.unfinished = 0;
    await admission.sample();
    assert.equal(admission.backlog(), 0);
    assert.equal(admission.refusal(), undefined);
  });

  test('when the backlog is counted, then the last count is kept as it was reported to the metrics, orders placed since left out', async () => {
    const { admission, backlog, reported } = anAdmission({ limit: 7, unfinished: 4 });
    assert.equal(admission.lastCount(), undefined);
    await admission.sample();
    admission.placed();
    const last = admission.lastCount();
    assert.deepEqual([last?.unfinished, last?.limit, reported], [4, 7, ['4 of 7']]);
    backlog.unfinished = 2;
    await admission.sample();
    assert.deepEqual([admission.lastCount()?.unfinished, reported.at(-1)], [2, '2 of 7']);
  });

  test('when nothing has been counted yet, then every order is admitted', () => {
    const { admission } = anAdmission({ limit: 1 });
    admission.placed();
    admission.placed();
    assert.equal(admission.backlog(), undefined);
    assert.equal(admission.refusal(), undefined);
  });

  test('when the last count is older than the staleness limit (counting fails), then every order is admitted, as with no limit', async () => {
    const { admission, advance } = anAdmission({ limit: 1, unfinished: 10, staleAfterMs: 5000 });
    await admission.sample();
    advance(4999);
    assert.ok(admission.refusal() instanceof OrderBacklogFullError);
    advance(2);
    assert.equal(admission.refusal(), undefined);
  });

  test('when the limit is 0, then no order is refused and the backlog is still counted and reported', async () => {
    const { admission, reported } = anAdmission({ limit: 0, unfinished: 1_000_000 });
    await admission.sample();
    assert.equal(admission.backlog(), 1_000_000);
    assert.equal(admission.refusal(), undefined);
    assert.deepEqual(reported, ['1000000 of 0']);
  });
});

describe('the limit that follows the finishing rate', () => {
  /** `count` orders finished, evenly over the last `seconds`. */
  function finishOver(setup: ReturnType<typeof anAdmission>, count: number, seconds: number): void {
    for (let n = 0; n < count; n += 1) {
      setup.admission.finished();
      setup.advance((seconds * 1000) / count);
    }
  }

  test('when orders finish at 50 a second and may wait 2 s, then the limit is 100 and the 100th unfinished order is refused', async () => {
    const setup = anAdmission({ limit: 5000, backlogSeconds: 2, floor: 10 });
    finishOver(setup, 500, 10);
    assert.equal(setup.admission.currentLimit(), 100);
    setup.backlog.unfinished = 99;
    await setup.admission.sample();
    assert.equal(setup.admission.refusal(), undefined);
    setup.backlog.unfinished = 100;
    await setup.admission.sample();
    assert.equal(setup.admission.refusal()?.limit, 100);
    assert.deepEqual(setup.reported.at(-1), '100 of 100');
  });

  test('when nothing has finished lately, then the floor is the limit, and the fixed limit caps a fast rate', () => {
    const setup = anAdmission({ limit: 300, backlogSeconds: 2, floor: 25 });
    assert.equal(setup.admission.currentLimit(), 25);
    finishOver(setup, 24, 10);
    assert.equal(setup.admission.currentLimit(), 25, 'too few finished to go by the rate');
    finishOver(setup, 50, 10);
    assert.equal(setup.admission.currentLimit(), 10, 'enough finished: 5 a second for 2 s, under the floor');
    finishOver(setup, 2000, 10);
    assert.equal(setup.admission.currentLimit(), 300);
    setup.advance(10_001);
    assert.equal(setup.admission.currentLimit(), 25, 'finishes older than ten seconds no longer count');
  });

  test('when backlog seconds are 0, then only the fixed limit applies and finishes are not kept', () => {
    const setup = anAdmission({ limit: 7 });
    finishOver(setup, 1000, 1);
    assert.equal(setup.admission.currentLimit(), 7);
  });
});

describe('placing an order under admission control', () => {
  const catalog = { findProducts: () => Promise.resolve([mugProduct, teaProduct]) };

  function setUp(limit: number) {
    const orders = new InMemoryOrders();
    const refused: string[] = [];
    const admission = new OrderAdmission({ orders, limit, staleAfterMs: 60_000 });
    let next = 0;
    const placeOrder = new PlaceOrder({
      idempotencyKeys: orders.idempotencyKeys, catalog, stepTimeoutMs: 30_000, admission,
      metrics: { ...noOrderMetrics, orderRefused: () => { refused.push('refused'); } },
      newId: () => `ord_${String((next += 1))}`,
    });
    const request = (key: string, quantity = 1): PlaceOrderInput => ({
      ...anOrderRequest({ items: [{ sku: 'MUG-1', quantity }] }), idempotencyKey: key, requestHash: `hash-${String(quantity)}`,
    });
    return { orders, admission, placeOrder, request, refused };
  }

  test('when the backlog is at the limit, then a new order is refused before its key is taken and nothing is written', async () => {
    const { orders, admission, placeOrder, request, refused } = setUp(1);
    await placeOrder.execute(request('key-1'));
    await admission.sample();

    await assert.rejects(placeOrder.execute(request('key-2')), OrderBacklogFullError);
    assert.equal(orders.orders.size, 1);
    assert.equal(orders.idempotencyKeys.peek('cus_1', 'key-2'), undefined);
    assert.deepEqual(refused, ['refused']);
  });

  test('when the backlog is at the limit, then a key already done with still answers as it says: the order as placed, or 422 for another body', async () => {
    const { orders, admission, placeOrder, request, refused } = setUp(1);
    const placed = await placeOrder.execute(request('key-1'));
    await admission.sample();

    const replay = await placeOrder.execute(request('key-1'));
    assert.deepEqual(replay, { order: placed.order, replayed: true });
    await assert.rejects(placeOrder.execute(request('key-1', 2)), IdempotencyKeyReusedError);
    assert.equal(orders.orders.size, 1);
    assert.deepEqual(refused, []);
  });

  test('when the backlog drains after a refusal, then a retry with the same key places the order', async () => {
    const { orders, admission, placeOrder, request } = setUp(1);
    const first = await placeOrder.execute(request('key-1'));
    await admission.sample();
    await assert.rejects(placeOrder.execute(request('key-2')), OrderBacklogFullError);

    orders.orders.set(first.order.id, { ...first.order, status: 'CONFIRMED', currentStep: null, stepDeadline: null });
    await admission.sample();
    const retried = await placeOrder.execute(request('key-2'));
    assert.equal(retried.replayed, false);
    assert.equal(orders.orders.size, 2);
  });
});
