import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { createHttpApp, type HttpApp } from '../../../../platform/http/app.ts';
import { createLogger } from '../../../../platform/logging/logger.ts';
import { auditMigrations } from '../../../../platform/audit/index.ts';
import { messagingMigrations } from '../../../../platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import { placeOrder, type Order, type OrderStatus } from '../../domain/order.ts';
import { createOrdersModule, ordersMigrations, type OrdersModule } from '../../index.ts';
import { PgOrderTransactions } from '../postgres/pg-order-store.ts';

let app: HttpApp;
let db: Database;
let drop: () => Promise<void>;
let orders: OrdersModule;

before(async () => {
  ({ db, drop } = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, auditMigrations, ordersMigrations]));
  orders = createOrdersModule({
    db,
    logger: createLogger({ level: 'silent' }),
    catalog: { findProductsBySku: () => Promise.resolve([]) },
    stepTimeoutMs: 60_000,
    idempotencyTtlHours: 24,
    devIdentityHeaders: true,
    backlogLimit: 500,
  });
  app = createHttpApp({ logger: createLogger({ level: 'silent' }), bodyLimit: 16 * 1024, routes: [orders.routes], readiness: [] });
  await app.ready();
});
after(async () => {
  await Promise.all(orders.background.map((task) => task.stop()));
  await app.close();
  await drop();
});

const minute = 60_000;
let made = 0;

/**
 * An order stored as the saga leaves it in `status`, placed at `placedAt` by `email` with a line of
 * each SKU; a finished one was confirmed or cancelled `finishedAfterMs` later (a cancelled one after
 * being confirmed when `confirmedFirst`).
 */
async function anOrder(options: {
  placedAt: Date; email?: string; skus?: string[]; status?: OrderStatus; finishedAfterMs?: number; confirmedFirst?: boolean;
}): Promise<Order> {
  made += 1;
  const skus = options.skus ?? ['MUG-1'];
  const products = skus.map((sku) => ({ sku, name: `Product ${sku}`, price: { amount: 500, currency: 'EUR' } }));
  const customer = { id: `cus_${String(made)}`, email: options.email ?? `customer-${String(made)}@example.com` };
  const placed = placeOrder(
    { customer, items: skus.map((sku) => ({ sku, quantity: 1 })), paymentToken: 'tok_visa' },
    products, `ord_admin_${String(made).padStart(4, '0')}`, options.placedAt, 60_000,
  );
  const status = options.status ?? 'PENDING';
  const finishedAt = new Date(options.placedAt.getTime() + (options.finishedAfterMs ?? 1000));
  const confirmed = status === 'CONFIRMED' || options.confirmedFirst === true ? [{ step: 'confirmed', at: finishedAt }] : [];
  const cancelled = status === 'CANCELLED' ? [{ step: 'cancelled', at: new Date(finishedAt.getTime() + (confirmed.length > 0 ? minute : 0)) }] : [];
  const finished = status === 'CONFIRMED' || status === 'CANCELLED';
  const order: Order = {
    ...placed, status, stepDeadline: finished ? null : placed.stepDeadline, currentStep: finished ? null : placed.currentStep,
    timeline: [...placed.timeline, ...confirmed, ...cancelled],
  };
  await new PgOrderTransactions(db).run((store) => store.insert(order, []));
  return order;
}

interface AdminOrder {
  id: string;
  status: string;
  customerId: string;
  customerEmail: string;
  lines: { sku: string }[];
  timeline: { step: string }[];
  createdAt: string;
}

async function listAll(query: string): Promise<AdminOrder[]> {
  const seen: AdminOrder[] = [];
  let url = `/v1/admin/orders?${query}`;
  for (let pages = 0; pages < 1000; pages += 1) {
    const response = await app.inject({ method: 'GET', url });
    assert.equal(response.statusCode, 200, response.body);
    const page = response.json<{ items: AdminOrder[]; nextCursor: string | null }>();
    seen.push(...page.items);
    if (page.nextCursor === null) return seen;
    url = `/v1/admin/orders?${query}&cursor=${encodeURIComponent(page.nextCursor)}`;
  }
  return assert.fail('more pages than orders');
}

// Long before the summary's window, so the summary test below sees only its own orders.
const base = Date.UTC(2024, 4, 1, 12, 0, 0);

describe('GET /v1/admin/orders', () => {
  const stored: Order[] = [];
  before(async () => {
    // Three orders share one creation time, so pages must break the tie by id.
    const sameTime = new Date(base + 5 * minute);
    stored.push(
      await anOrder({ placedAt: new Date(base), email: 'Ada@Example.com', skus: ['MUG-1', 'TEA-1'], status: 'CONFIRMED' }),
      await anOrder({ placedAt: new Date(base + minute), email: 'bob@example.com', skus: ['TEA-1'], status: 'CANCELLED' }),
      await anOrder({ placedAt: new Date(base + 2 * minute), email: 'ada@example.com', skus: ['PEN-2'], status: 'RESERVED' }),
      await anOrder({ placedAt: sameTime, skus: ['MUG-1'], status: 'CONFIRMED' }),
      await anOrder({ placedAt: sameTime, skus: ['MUG-1'], status: 'PENDING' }),
      await anOrder({ placedAt: sameTime, skus: ['PEN-2'], status: 'CANCELLED', confirmedFirst: true }),
      await anOrder({ placedAt: new Date(base + 9 * minute), email: 'carol@example.com', skus: ['TEA-1'], status: 'CANCELLING' }),
    );
  });
  const window = `from=${new Date(base).toISOString()}&to=${new Date(base + 10 * minute).toISOString()}`;
  const idsOf = (items: readonly { id: string }[]) => items.map((item) => item.id);
  const newestFirst = (picked: readonly Order[]) => [...picked]
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1)).map((order) => order.id);

  test('when following nextCursor a page at a time, then every order is listed once, newest first (ties by id), with its customer email', async () => {
    for (const limit of [1, 2, 3, 100]) {
      const seen = await listAll(`${window}&limit=${String(limit)}`);
      assert.deepEqual(idsOf(seen), newestFirst(stored), `limit ${String(limit)}`);
    }
    const [first] = await listAll(`${window}&email=ada@example.com&status=CONFIRMED`);
    assert.equal(first?.customerEmail, 'Ada@Example.com');
    assert.deepEqual(first.timeline.map((entry) => entry.step), ['placed', 'confirmed']);
  });

  test('when filtering by status, then only orders in it are listed, finished or not', async () => {
    for (const status of ['PENDING', 'RESERVED', 'AUTHORIZED', 'CONFIRMED', 'CANCELLING', 'CANCELLED'] as const) {
      const seen = await listAll(`${window}&status=${status}&limit=1`);
      assert.deepEqual(idsOf(seen), newestFirst(stored.filter((order) => order.status === status)), status);
    }
  });

  test('when filtering by email, SKU or time, then only matching orders are listed, whatever the case of the email or SKU', async () => {
    assert.deepEqual(idsOf(await listAll(`${window}&email=ADA%40example.COM`)), newestFirst(stored.filter((order) => order.customer.email.toLowerCase() === 'ada@example.com')));
    assert.deepEqual(idsOf(await listAll(`${window}&sku=mug-1&limit=2`)), newestFirst(stored.filter((order) => order.lines.some((line) => line.sku === 'MUG-1'))));
    const from = new Date(base + minute);
    const to = new Date(base + 5 * minute);
    assert.deepEqual(
      idsOf(await listAll(`from=${from.toISOString()}&to=${to.toISOString()}`)),
      newestFirst(stored.filter((order) => order.createdAt >= from && order.createdAt < to)),
    );
    assert.deepEqual(idsOf(await listAll(`${window}&sku=TEA-1&status=CANCELLED&email=bob@example.com`)), [stored[1]?.id]);
    assert.deepEqual(await listAll(`${window}&email=nobody@example.com`), []);
  });

  const badQueries: [string, string][] = [
    ['status=SHIPPED', 'status'],
    ['from=yesterday', 'from'],
    ['to=2024-05-01', 'to'],
    ['from=0001-01-01T00:00:00Z', 'from'],
    [`from=${new Date(base + minute).toISOString()}&to=${new Date(base).toISOString()}`, 'from'],
    ['sku=no%20spaces', 'sku'],
    ['email=', 'email'],
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['limit=ten', 'limit'],
    ['cursor=abc', 'cursor'],
    ['color=blue', ''],
  ];
  for (const [query, field] of badQueries) {
    test(`when the query is ${query}, then 400 problem+json${field === '' ? '' : ` names ${field}`}`, async () => {
      const response = await app.inject({ method: 'GET', url: `/v1/admin/orders?${query}` });
      assert.equal(response.statusCode, 400, response.body);
      assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
      const problem = response.json<{ type: string; errors?: { location: string; field: string }[] }>();
      assert.equal(problem.type, 'https://orderstream.dev/problems/validation-error');
      if (field !== '') assert.ok(problem.errors?.some((error) => error.location === 'querystring' && error.field === field), response.body);
    });
  }
});

interface Summary {
  generatedAt: string;
  minutes: string[];
  placed: number[];
  confirmed: number[];
  cancelled: number[];
  backlog: { unfinished: number; limit: number; countedAt: string } | null;
  deadLetters: { module: string; waiting: number }[];
  confirmation: { p95Seconds: number | null; confirmed: number };
}

describe('GET /v1/admin/summary', () => {
  test('when orders were placed, confirmed and cancelled in the last hour, then each is counted in its minute, with the p95, the backlog and the dead letters', async () => {
    const first = (await app.inject({ method: 'GET', url: '/v1/admin/summary' })).json<Summary>();
    assert.equal(first.backlog, null, 'no count before the sampler has run');
    const now = Date.now();
    const minuteOf = (time: number) => Math.floor(time / minute) * minute;
    // Far enough inside the window that it still is when the summary is read.
    const placedAt = minuteOf(now) - 30 * minute + 5000;
    const confirmedSeconds = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20];
    for (const seconds of confirmedSeconds) await anOrder({ placedAt: new Date(placedAt), status: 'CONFIRMED', finishedAfterMs: seconds * 1000 });
    await anOrder({ placedAt: new Date(placedAt), status: 'CANCELLED', confirmedFirst: true, finishedAfterMs: 1000 });
    await anOrder({ placedAt: new Date(placedAt - 2 * 3_600_000), status: 'CANCELLED', finishedAfterMs: 2 * 3_600_000 - 20 * minute });
    await anOrder({ placedAt: new Date(now - 2 * 3_600_000), status: 'CONFIRMED' });
    const unfinished = await anOrder({ placedAt: new Date(now - 1000), status: 'AUTHORIZED' });
    await sql`insert into messaging.dead_letters (consumer, message_id, envelope, attempts, last_error)
      values ('notifications.order-events', ${crypto.randomUUID()}, '{"type":"orders.confirmed","version":1,"key":"k"}'::jsonb, 5, 'boom'),
             ('notifications.order-events', ${crypto.randomUUID()}, '{"type":"orders.confirmed","version":1,"key":"k"}'::jsonb, 5, 'boom'),
             ('orders.saga', ${crypto.randomUUID()}, '{"type":"inventory.reserved","version":1,"key":"k"}'::jsonb, 5, 'boom')`.execute(db);
    // Only the backlog's counter: the timeout sweeper would move the orders stored above.
    for (const task of orders.background) if (task.name === 'orders.backlog-sampler') task.start();
    let summary = first;
    for (const deadline = Date.now() + 10_000; summary.backlog === null && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const response = await app.inject({ method: 'GET', url: '/v1/admin/summary' });
      assert.equal(response.statusCode, 200, response.body);
      summary = response.json<Summary>();
    }

    assert.equal(summary.minutes.length, 60);
    assert.equal(Date.parse(summary.minutes[59] ?? ''), minuteOf(Date.parse(summary.generatedAt)));
    const index = summary.minutes.indexOf(new Date(minuteOf(placedAt)).toISOString());
    assert.ok(index >= 0);
    const total = (series: number[]) => series.reduce((sum, count) => sum + count, 0);
    assert.equal(summary.placed[index], 21);
    assert.equal(total(summary.placed), 22, 'the 21 orders of that minute and the unfinished one');
    assert.equal(total(summary.confirmed), 21, 'the 20 confirmed and the one cancelled after its confirmation');
    assert.equal(summary.cancelled[index + 1], 1, 'cancelled a minute after its confirmation');
    assert.equal(summary.cancelled[index - 20], 1, 'the order placed long before, cancelled 20 minutes before that minute');
    assert.equal(total(summary.cancelled), 2);
    assert.equal(summary.confirmation.confirmed, 21);
    // 95th percentile of 1, 1..20 s, interpolated as percentile_cont does: 19.0 s.
    assert.ok(Math.abs((summary.confirmation.p95Seconds ?? 0) - 19) < 0.01, String(summary.confirmation.p95Seconds));
    assert.ok(summary.backlog !== null);
    // The unfinished orders of the list tests above, and this one.
    assert.deepEqual([summary.backlog.unfinished, summary.backlog.limit], [4, 500]);
    assert.equal(unfinished.status, 'AUTHORIZED');
    assert.deepEqual(summary.deadLetters, [{ module: 'notifications', waiting: 2 }, { module: 'orders', waiting: 1 }]);
  });
});
