import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { requireService } from '../../src/platform/testing/services.ts';
import { call, signIn, startServicesShape, startSingleShape, type RunningShape } from './harness/shapes.ts';
import { waitForTerminal } from './harness/fulfilment-harness.ts';

/**
 * One order suite, two shapes: the single process, and the services shape (a process per service,
 * a database per service, Kafka between them, a gateway in front). Everything goes through the
 * public address with real tokens; invariants are read from each service's own database.
 */
const kafka = requireService('Kafka', 'KAFKA_BROKERS');
const shapes: { name: string; skip: string | false; start: () => Promise<RunningShape> }[] = [
  { name: 'single-process', skip: false, start: startSingleShape },
  { name: 'services', skip: kafka.skip, start: () => startServicesShape({ kafkaBrokers: kafka.url ?? '' }) },
];

interface OrderView {
  id: string;
  status: string;
  refunded: { amount: number; currency: string } | null;
}

for (const shape of shapes) {
  describe(`the order flow in the ${shape.name} shape`, { skip: shape.skip }, () => {
    let running: RunningShape;
    let admin: string;
    let customer: string;

    before(async () => {
      running = await shape.start();
      admin = await signIn(running, `admin-${shape.name}@example.com`, { admin: true });
      customer = await signIn(running, `ada-${shape.name}@example.com`);
    });
    after(async () => {
      await (running as RunningShape | undefined)?.stop(); // unset when the shape failed to start
    });

    async function product(sku: string, onHand: number): Promise<void> {
      const created = await call(running, 'POST', '/v1/products', { token: admin, body: { sku, name: `Product ${sku}`, price: { amount: 1250, currency: 'EUR' } } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const stocked = await call(running, 'PUT', `/v1/inventory/${sku}`, { token: admin, body: { onHand } });
      assert.equal(stocked.status, 200, JSON.stringify(stocked.body));
    }

    function place(sku: string, token: string, options: { quantity?: number; paymentToken?: string; key?: string; who?: string } = {}) {
      return call(running, 'POST', '/v1/orders', {
        token: options.who ?? customer,
        headers: { 'idempotency-key': options.key ?? crypto.randomUUID() },
        body: { items: [{ sku, quantity: options.quantity ?? 1 }], payment: { token: options.paymentToken ?? token } },
      });
    }

    async function settled(id: string): Promise<OrderView> {
      await waitForTerminal(running.databaseOf('orders'), [id], 60_000);
      return (await call(running, 'GET', `/v1/orders/${id}`, { token: customer })).body as OrderView;
    }

    async function stockOf(sku: string): Promise<{ onHand: number; reserved: number }> {
      return (await call(running, 'GET', `/v1/inventory/${sku}`, { token: admin })).body as { onHand: number; reserved: number };
    }

    async function paymentOperations(orderIds: readonly string[]): Promise<{ captures: number; refunds: number }> {
      const rows = await sql<{ captures: number; refunds: number }>`
        select count(*) filter (where operation = 'capture' and outcome = 'succeeded')::int as captures,
               count(*) filter (where operation = 'refund' and outcome = 'succeeded')::int as refunds
        from payments.provider_calls where order_id = any(${orderIds})`.execute(running.databaseOf('payments'));
      return rows.rows[0] ?? { captures: 0, refunds: 0 };
    }

    test('when a customer orders with a good card, then the order is confirmed, stock taken and the payment captured once', async () => {
      await product('FLOW-HAPPY', 10);
      const placed = await place('FLOW-HAPPY', 'tok_visa', { quantity: 2 });
      assert.equal(placed.status, 202, JSON.stringify(placed.body));
      const order = await settled((placed.body as OrderView).id);
      assert.equal(order.status, 'CONFIRMED');
      assert.deepEqual(await stockOf('FLOW-HAPPY'), { sku: 'FLOW-HAPPY', onHand: 8, reserved: 0, available: 8 });
      assert.deepEqual(await paymentOperations([order.id]), { captures: 1, refunds: 0 });
    });

    test('when the card is declined, then the order is cancelled and the stock released', async () => {
      await product('FLOW-DECLINE', 5);
      const placed = await place('FLOW-DECLINE', 'tok_declined');
      assert.equal(placed.status, 202);
      const order = await settled((placed.body as OrderView).id);
      assert.equal(order.status, 'CANCELLED');
      assert.deepEqual(await stockOf('FLOW-DECLINE'), { sku: 'FLOW-DECLINE', onHand: 5, reserved: 0, available: 5 });
      assert.deepEqual(await paymentOperations([order.id]), { captures: 0, refunds: 0 });
    });

    test('when a confirmed order is cancelled, then it is refunded and restocked', async () => {
      await product('FLOW-REFUND', 3);
      const placed = await place('FLOW-REFUND', 'tok_visa');
      const id = (placed.body as OrderView).id;
      assert.equal((await settled(id)).status, 'CONFIRMED');
      const cancel = await call(running, 'POST', `/v1/orders/${id}/cancel`, { token: customer });
      assert.equal(cancel.status, 202, JSON.stringify(cancel.body));
      const deadline = Date.now() + 60_000;
      let order = (await call(running, 'GET', `/v1/orders/${id}`, { token: customer })).body as OrderView;
      while (order.status !== 'CANCELLED' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        order = (await call(running, 'GET', `/v1/orders/${id}`, { token: customer })).body as OrderView;
      }
      assert.equal(order.status, 'CANCELLED');
      assert.deepEqual(order.refunded, { amount: 1250, currency: 'EUR' });
      assert.deepEqual(await stockOf('FLOW-REFUND'), { sku: 'FLOW-REFUND', onHand: 3, reserved: 0, available: 3 });
      assert.deepEqual(await paymentOperations([id]), { captures: 1, refunds: 1 });
    });

    test('when stock is set and an order is confirmed and then cancelled, then product reads follow: the status for anyone, the quantity for admins', async () => {
      const created = await call(running, 'POST', '/v1/products', { token: admin, body: { sku: 'FLOW-AVAIL', name: 'Product FLOW-AVAIL', price: { amount: 1250, currency: 'EUR' } } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const productId = (created.body as { id: string }).id;
      const availability = async (token?: string) =>
        ((await call(running, 'GET', `/v1/products/${productId}`, token === undefined ? {} : { token })).body as { availability: unknown }).availability;
      // The catalog hears of stock from inventory's events, a moment later (and through Kafka between services).
      const follows = async (status: string, available: number) => {
        const deadline = Date.now() + 60_000;
        while (JSON.stringify(await availability(admin)) !== JSON.stringify({ status, available }) && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        assert.deepEqual(await availability(admin), { status, available });
        assert.deepEqual(await availability(customer), { status });
        assert.deepEqual(await availability(), { status });
      };
      assert.deepEqual(await availability(customer), { status: 'out-of-stock' });
      assert.equal((await call(running, 'PUT', '/v1/inventory/FLOW-AVAIL', { token: admin, body: { onHand: 6 } })).status, 200);
      await follows('in-stock', 6);

      const placed = await place('FLOW-AVAIL', 'tok_visa', { quantity: 2 });
      const id = (placed.body as OrderView).id;
      assert.equal((await settled(id)).status, 'CONFIRMED');
      await follows('low', 4);

      assert.equal((await call(running, 'POST', `/v1/orders/${id}/cancel`, { token: customer })).status, 202);
      await follows('in-stock', 6);
    });

    test('when an Idempotency-Key is sent again, then the same order answers; with another body, 422 and nothing new', async () => {
      await product('FLOW-KEY', 5);
      const key = crypto.randomUUID();
      const first = await place('FLOW-KEY', 'tok_visa', { key });
      const again = await place('FLOW-KEY', 'tok_visa', { key });
      assert.equal(first.status, 202);
      assert.equal((again.body as OrderView).id, (first.body as OrderView).id);
      const other = await place('FLOW-KEY', 'tok_visa', { key, quantity: 2 });
      assert.equal(other.status, 422);
      const count = await sql<{ orders: number }>`select count(*)::int as orders from orders.orders where id = ${(first.body as OrderView).id}`.execute(running.databaseOf('orders'));
      assert.equal(count.rows[0]?.orders, 1);
      await settled((first.body as OrderView).id);
    });

    test('when 200 customers race for 50 units at once, then exactly 50 orders are confirmed and nothing is oversold or charged twice', async () => {
      await product('FLOW-RACE', 50);
      const racers = await Promise.all([1, 2, 3, 4].map((index) => signIn(running, `racer-${String(index)}-${shape.name}@example.com`)));
      // A client that gets no answer in time (504 on a loaded machine) sends the same order again
      // with the same Idempotency-Key, as the API asks: it must end as one order, never two.
      const placeSurely = async (who: string) => {
        const key = crypto.randomUUID();
        let answer = await place('FLOW-RACE', 'tok_visa', { who, key });
        // (409: the first attempt is still being handled; ask again shortly.)
        for (let attempt = 0; attempt < 10 && [409, 502, 503, 504].includes(answer.status); attempt += 1) {
          await new Promise((resolve) => setTimeout(resolve, 500));
          answer = await place('FLOW-RACE', 'tok_visa', { who, key });
        }
        return answer;
      };
      const answers = await Promise.all(Array.from({ length: 200 }, (_, index) => placeSurely(racers[index % racers.length] ?? customer)));
      assert.deepEqual([...new Set(answers.map((answer) => answer.status))], [202]);
      const ids = answers.map((answer) => (answer.body as OrderView).id);
      assert.equal(new Set(ids).size, 200, 'each customer order is one order, retried or not');
      const outcomes = await waitForTerminal(running.databaseOf('orders'), ids, 180_000);
      const confirmed = [...outcomes.values()].filter((outcome) => outcome.status === 'CONFIRMED').length;
      assert.equal(confirmed, 50);
      assert.equal([...outcomes.values()].filter((outcome) => outcome.status === 'CANCELLED').length, 150);
      assert.deepEqual(await stockOf('FLOW-RACE'), { sku: 'FLOW-RACE', onHand: 0, reserved: 0, available: 0 });
      assert.deepEqual(await paymentOperations(ids), { captures: 50, refunds: 0 });
    });
  });
}
