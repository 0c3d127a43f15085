import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { requireOwnKafkaBroker, startOwnKafkaBroker, type OwnKafkaBroker } from '../../src/platform/testing/kafka-broker.ts';
import { freePort } from './harness/orderstream-process.ts';
import { call, signIn, startServicesShape, type RunningShape } from './harness/shapes.ts';
import { waitForTerminal } from './harness/fulfilment-harness.ts';

/**
 * The services shape under faults: a service killed with SIGKILL, the Kafka broker stopped and
 * started, the gateways' Redis gone. After each, every accepted order ends terminal, no unit is
 * sold twice, no order is charged twice, and each event is notified once. The broker and Redis it
 * stops are its own, started here on free ports: never the ones KAFKA_BROKERS and REDIS_URL name.
 */
const kafka = requireOwnKafkaBroker();

describe('the services shape under faults', { skip: kafka.skip }, () => {
  let running: RunningShape;
  let redis: ChildProcess;
  let broker: OwnKafkaBroker | undefined;
  let admin: string;
  let customer: string;
  const accepted: string[] = [];
  let stocked = 0;

  before(async () => {
    const redisPort = await freePort();
    redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    broker = await startOwnKafkaBroker();
    running = await startServicesShape({ kafkaBrokers: broker.brokers, redisUrl: `redis://127.0.0.1:${String(redisPort)}` });
    admin = await signIn(running, 'admin-faults@example.com', { admin: true });
    customer = await signIn(running, 'ada-faults@example.com');
    assert.equal((await call(running, 'POST', '/v1/products', { token: admin, body: { sku: 'FAULT-1', name: 'Fault', price: { amount: 700, currency: 'EUR' } } })).status, 201);
    stocked = 60;
    assert.equal((await call(running, 'PUT', '/v1/inventory/FAULT-1', { token: admin, body: { onHand: stocked } })).status, 200);
  });

  after(async () => {
    try {
      // Unset when the shape failed to start; the rest must still run, or this file never ends.
      await (running as RunningShape | undefined)?.stop();
    } finally {
      redis.kill('SIGKILL');
      await broker?.remove();
    }
  });

  /**
   * Places `count` orders (every fourth with a declined card), resending with the same key when the
   * answer is lost. A request that died with the orders service holds its key for a minute (the
   * claim's lease), answering 409 meanwhile, so a client keeps asking for up to 90 s.
   */
  async function placeOrders(count: number): Promise<string[]> {
    return Promise.all(Array.from({ length: count }, async (_, index) => {
      const key = crypto.randomUUID();
      const body = { items: [{ sku: 'FAULT-1', quantity: 1 }], payment: { token: index % 4 === 3 ? 'tok_declined' : 'tok_visa' } };
      for (let attempt = 0; attempt < 90; attempt += 1) {
        const answer = await call(running, 'POST', '/v1/orders', { token: customer, headers: { 'idempotency-key': key }, body }).catch(() => undefined);
        if (answer?.status === 202) {
          const id = (answer.body as { id: string }).id;
          accepted.push(id);
          return id;
        }
        await sleep(1000);
      }
      throw new Error('an order was never accepted');
    }));
  }

  async function assertInvariants(): Promise<void> {
    const ids = [...new Set(accepted)];
    const outcomes = await waitForTerminal(running.databaseOf('orders'), ids, 180_000);
    const confirmed = [...outcomes].filter(([, outcome]) => outcome.status === 'CONFIRMED').map(([id]) => id);
    const stock = (await call(running, 'GET', '/v1/inventory/FAULT-1', { token: admin })).body as { onHand: number; reserved: number };
    const held = await sql<{ order_id: string }>`select order_id from inventory.reservations where status = 'active'`.execute(running.databaseOf('inventory'));
    const holders = await sql<{ id: string; status: string; timeline: unknown }>`
      select id, status, timeline from orders.orders where id = any(${held.rows.map((row) => row.order_id)})`.execute(running.databaseOf('orders'));
    assert.equal(stock.reserved, 0, `nothing stays reserved; held for ${JSON.stringify(holders.rows)}`);
    assert.equal(stock.onHand, stocked - confirmed.length, 'each confirmed order took exactly one unit');
    const charges = await sql<{ order_id: string; captures: number; refunds: number }>`
      select order_id, count(*) filter (where operation = 'capture' and outcome = 'succeeded')::int as captures,
             count(*) filter (where operation = 'refund' and outcome = 'succeeded')::int as refunds
      from payments.provider_calls where order_id = any(${ids}) group by order_id`.execute(running.databaseOf('payments'));
    assert.ok(charges.rows.every((row) => row.captures <= 1), 'no order captured twice');
    assert.deepEqual(charges.rows.filter((row) => row.captures - row.refunds === 1).map((row) => row.order_id).sort(), [...confirmed].sort(), 'exactly the confirmed orders keep a payment');
    // The notifications service hears of each order through Kafka, after the orders service: give it time to catch up.
    const readNotices = () => sql<{ order_id: string; type: string; events: number; emails: number }>`
      select e.order_id, e.type, count(distinct e.id)::int as events, count(d.id)::int as emails
      from notifications.events e left join notifications.deliveries d on d.event_id = e.id and d.channel = 'email'
      where e.order_id = any(${ids}) group by e.order_id, e.type`.execute(running.databaseOf('notifications'));
    let notices = await readNotices();
    const caughtUpBy = Date.now() + 90_000;
    const announced = () => new Set(notices.rows.filter((row) => row.type === 'orders.confirmed').map((row) => row.order_id));
    while (!confirmed.every((id) => announced().has(id)) && Date.now() < caughtUpBy) {
      await sleep(500);
      notices = await readNotices();
    }
    assert.ok(notices.rows.every((row) => row.events === 1 && row.emails <= 1), `an event notified twice: ${JSON.stringify(notices.rows.filter((row) => row.events !== 1 || row.emails > 1))}`);
    const confirmations = notices.rows.filter((row) => row.type === 'orders.confirmed').map((row) => row.order_id).sort();
    assert.deepEqual(confirmations, [...confirmed].sort(), 'each confirmed order is announced once');
  }

  test('when the orders service is killed with SIGKILL mid-flow and restarted, then every accepted order ends terminal with stock and money exact', async () => {
    const orders = running.processes.get('orders');
    assert.ok(orders !== undefined);
    const placing = placeOrders(20);
    while (accepted.length < 5) await sleep(20);
    await orders.stop('SIGKILL');
    await sleep(500);
    await orders.start(60_000);
    await placing;
    await assertInvariants();
  });

  test('when the Kafka broker stops mid-flow and comes back, then the outboxes hold the messages and nothing is lost', async () => {
    assert.ok(broker !== undefined);
    const before = accepted.length;
    const placing = placeOrders(12);
    while (accepted.length < before + 4) await sleep(20);
    await broker.stop();
    await sleep(3000);
    await broker.start();
    await placing;
    await assertInvariants();
  });

  test('when Redis is gone, then orders are still accepted and completed (the rate limit fails open)', async () => {
    redis.kill('SIGKILL');
    await once(redis, 'exit');
    await placeOrders(6);
    await assertInvariants();
  });
});
