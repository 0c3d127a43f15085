/**
 * A model-based test of the fulfilment saga across orders, inventory and payments: the real modules,
 * their real consumers, inboxes, retries, workers and sweepers on one PostgreSQL database, with a
 * transport that only records what the outbox relay publishes. A generated schedule then decides
 * which pending message reaches which consumer next, which deliveries crash before their commit
 * (so the real retry path delivers them again later, after newer messages), when the relay crashes
 * between publishing and marking (duplicates), how the payment gateway answers (at once, down, slow,
 * or after acting but losing its answer), when time jumps past step timeouts and reservation expiry,
 * and when customers place (twice with one Idempotency-Key) and cancel orders. Once the schedule has
 * run, everything pending is delivered and the sweepers run until nothing changes; then every order
 * must be terminal and stock, reservations and the gateway's money must agree with the outcomes.
 *
 * The gateway is an in-memory one (`InMemoryPaymentGateway`) that keeps the truth about each order's
 * money, so the money invariants are checked against what the card saw, not only against what
 * payments recorded. A call may fail on every attempt payments allows it: payments then asks the
 * gateway where the payment stands, and a void or refund it had to give up waits for an admin, who
 * retries it once the schedule has run (`settle`), as the operations runbook says.
 *
 * MODEL_RUNS sets the number of schedules (default 40, about 13 s) and MODEL_SEED the seed (fixed
 * by default); MODEL_PATH and MODEL_REPLAY_PATH, with the seed, replay the one schedule a failure
 * reports (its `path` and `replayPath`). MODEL_SHRINK=false reports the first failing schedule
 * unshrunk; MODEL_TIME_LIMIT_MS bounds the run with its shrinking (default 100 s, within the
 * runner's 120 s; raise both with `--test-timeout`).
 */
import assert from 'node:assert/strict';
import { after, before, mock, test } from 'node:test';
import fc from 'fast-check';
import { sql } from 'kysely';
import { auditMigrations } from '../../src/platform/audit/index.ts';
import type { BackgroundTask } from '../../src/platform/background/background-loop.ts';
import type { Database } from '../../src/platform/database/database.ts';
import { createHttpApp, type HttpApp } from '../../src/platform/http/app.ts';
import { createLogger } from '../../src/platform/logging/logger.ts';
import {
  createMessaging, messagingMigrations,
  type Envelope, type MessageConsumer, type MessageTransport, type Messaging, type OutgoingMessage, type Subscription,
} from '../../src/platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../src/platform/testing/test-database.ts';
import { createInventoryModule, inventoryMigrations, type InventoryModule } from '../../src/modules/inventory/index.ts';
import { createOrdersModule, ordersMigrations } from '../../src/modules/orders/index.ts';
import { createPaymentsModule, paymentsMigrations, type PaymentsModuleDeps } from '../../src/modules/payments/index.ts';
import { InMemoryPaymentGateway, type GatewayBehaviour } from '../../src/modules/payments/testing/in-memory-payment-gateway.ts';

const stepTimeoutMs = 10_000;
const reservationTtlSeconds = 30;
const prices: Readonly<Record<string, number>> = { 'SAGA-A': 1000, 'SAGA-B': 250 };
const initialStock: Readonly<Record<string, number>> = { 'SAGA-A': 3, 'SAGA-B': 2 };
const customers = ['cus_ada', 'cus_bob'] as const;
const terminal = new Set(['CONFIRMED', 'CANCELLED']);
/** Attempts of one provider call before payments gives the operation up. */
const providerAttempts = 3;

/** One delivery of one message to one consumer, as a broker would hand it over. */
interface Delivery {
  consumer: string;
  envelope: Envelope;
  deliver: Subscription['deliver'];
}

/**
 * Records what the relay publishes, one pending delivery per subscribed consumer, and delivers
 * nothing by itself. `failNextPublish` makes the next publish take the messages and then fail, as
 * a relay that dies before marking its batch sent: the rows stay unsent and go out again.
 */
class ScheduledTransport implements MessageTransport {
  readonly #subscriptions: Subscription[] = [];
  pending: Delivery[] = [];
  failNextPublish = false;

  subscribe(subscription: Subscription): void {
    this.#subscriptions.push(subscription);
  }

  publish(messages: readonly OutgoingMessage[]): Promise<void> {
    for (const { envelope } of messages) {
      for (const subscription of this.#subscriptions) {
        if (subscription.types.includes(envelope.type)) this.pending.push({ consumer: subscription.consumer, envelope, deliver: subscription.deliver });
      }
    }
    if (!this.failNextPublish) return Promise.resolve();
    this.failNextPublish = false;
    return Promise.reject(new Error('the relay lost its connection before marking the batch sent'));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** A request to place an order, kept to send it again with the same Idempotency-Key. */
interface Placement {
  label: string;
  customer: string;
  key: string;
  items: { sku: string; quantity: number }[];
  token: string;
  orderId: string;
}

/** The modules on one database, driven step by step; reset before each schedule. */
class SagaWorld {
  readonly transport = new ScheduledTransport();
  gateway = new InMemoryPaymentGateway();
  placements: Placement[] = [];
  delivered: Delivery[] = [];
  log: string[] = [];
  /** The consumer whose next delivery crashes after its effect, before its commit. */
  crashNext: string | undefined;
  /** A payments worker round waiting on a slow gateway answer. */
  slowRound: Promise<void> | undefined;
  now = 0;
  readonly db: Database;
  readonly app: HttpApp;
  readonly messaging: Messaging;
  readonly inventory: InventoryModule;
  readonly #orderTimeouts: BackgroundTask;
  readonly #reservationExpiry: BackgroundTask;
  readonly #paymentsWorker: BackgroundTask;

  constructor(db: Database) {
    this.db = db;
    const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
    // The modules are built once; each schedule gets a fresh gateway behind this forwarder.
    const provider: NonNullable<PaymentsModuleDeps['paymentProvider']> = {
      authorize: (request) => this.gateway.authorize(request),
      capture: (request) => this.gateway.capture(request),
      void: (request) => this.gateway.void(request),
      refund: (request) => this.gateway.refund(request),
      lookup: (request) => this.gateway.lookup(request),
      findAuthorization: (request) => this.gateway.findAuthorization(request),
    };
    const orders = createOrdersModule({
      db, logger, stepTimeoutMs, idempotencyTtlHours: 24, devIdentityHeaders: true,
      catalog: { findProductsBySku: (skus) => Promise.resolve(skus.filter((sku) => sku in prices).map((sku) => ({ id: `prod_${sku}`, sku, name: sku, price: { amount: prices[sku] ?? 0, currency: 'EUR' } }))) },
    });
    this.inventory = createInventoryModule({ db, logger, reservationTtlSeconds });
    const payments = createPaymentsModule({
      db, logger, provider: 'simulated', simulatedDelayMs: 0, paymentProvider: provider,
      // One provider call per worker round, retried after a millisecond or two, given up after three attempts.
      workerConcurrency: 1, maxAttempts: providerAttempts, retryBaseMs: 1, operationLeaseMs: 60_000,
    });
    this.messaging = createMessaging({ db, transport: this.transport, logger, retryPolicy: { maxAttempts: 50, baseDelayMs: 1 }, pollIntervalMs: 60_000 });
    for (const consumer of [...this.inventory.consumers, ...payments.consumers, ...orders.consumers]) this.messaging.register(this.crashable(consumer));
    this.#orderTimeouts = onlyTask(orders.background, 'orders.saga-timeouts');
    this.#reservationExpiry = onlyTask(this.inventory.background, 'inventory.reservation-expiry');
    this.#paymentsWorker = onlyTask(payments.background, 'payments.operations-worker');
    this.app = createHttpApp({ logger, bodyLimit: 16 * 1024, routes: [orders.routes, payments.routes], readiness: [] });
  }

  /** The consumer as registered, except that a delivery marked to crash throws after its effect, rolling it back. */
  crashable(consumer: MessageConsumer): MessageConsumer {
    const afterCommit = consumer.afterCommit?.bind(consumer);
    return {
      name: consumer.name,
      types: consumer.types,
      handle: async (envelope, transaction) => {
        await consumer.handle(envelope, transaction);
        if (this.crashNext === consumer.name) {
          this.crashNext = undefined;
          throw new Error('the process crashed before committing the effect');
        }
      },
      ...(afterCommit === undefined ? {} : { afterCommit }),
    };
  }

  async reset(): Promise<void> {
    await sql`truncate messaging.outbox, messaging.inbox, messaging.retries, messaging.dead_letters,
      orders.orders, orders.idempotency_keys, inventory.reservation_lines, inventory.reservations, inventory.stock_items,
      payments.provider_calls, payments.operations, payments.payments, payments.webhook_events restart identity`.execute(this.db);
    this.transport.pending = [];
    this.transport.failNextPublish = false;
    this.gateway = new InMemoryPaymentGateway();
    this.placements = [];
    this.delivered = [];
    this.log = [];
    this.crashNext = undefined;
    this.slowRound = undefined;
    this.now = Date.parse('2026-06-01T12:00:00Z');
    mock.timers.setTime(this.now);
    for (const [sku, onHand] of Object.entries(initialStock)) await this.inventory.client.setStockLevel(sku, onHand);
  }

  labelOf(envelope: Envelope): string {
    return this.labelOfOrder(String((envelope.payload as { orderId?: unknown }).orderId));
  }

  labelOfOrder(orderId: string): string {
    return this.placements.find((placement) => placement.orderId === orderId)?.label ?? orderId;
  }

  describe(delivery: Delivery): string {
    return `${delivery.envelope.type}(${this.labelOf(delivery.envelope)}) to ${delivery.consumer}`;
  }

  async deliver(delivery: Delivery, crash: boolean): Promise<void> {
    this.crashNext = crash ? delivery.consumer : undefined;
    await delivery.deliver(delivery.envelope);
    this.crashNext = undefined;
    this.delivered.push(delivery);
  }

  /** One step of a background loop: started and stopped at once, it runs its step exactly once. */
  async runOnce(task: BackgroundTask): Promise<void> {
    task.start();
    await task.stop();
  }

  sweepTimeouts(): Promise<void> {
    return this.runOnce(this.#orderTimeouts);
  }

  sweepExpiredReservations(): Promise<void> {
    return this.runOnce(this.#reservationExpiry);
  }

  /** One payments worker round (one provider call at most); a slow answer leaves the round running. */
  async runPaymentsWorker(behaviour: GatewayBehaviour): Promise<string> {
    if (this.slowRound !== undefined) return 'the worker waits on a slow answer';
    const callsBefore = this.gateway.calls.length;
    this.gateway.behaviour = behaviour;
    this.#paymentsWorker.start();
    const round = this.#paymentsWorker.stop();
    const state = { done: false };
    const finished = () => { state.done = true; };
    round.then(finished, finished);
    while (!state.done && this.gateway.slowCalls === 0) await new Promise((resolve) => setImmediate(resolve));
    this.gateway.behaviour = 'answers';
    if (!state.done) this.slowRound = round;
    else await round;
    const calls = this.gateway.calls.slice(callsBefore).map((call) => `${call.call}(${this.labelOfOrder(call.orderId)}) ${call.behaviour}`);
    return calls.length === 0 ? 'nothing due' : calls.join(', ');
  }

  async releaseSlowAnswer(): Promise<boolean> {
    const round = this.slowRound;
    if (round === undefined) return false;
    this.gateway.releaseSlowCalls();
    await round;
    this.slowRound = undefined;
    return true;
  }

  advanceClock(ms: number): void {
    this.now += ms;
    mock.timers.setTime(this.now);
  }

  /**
   * Delivers everything (oldest first), runs due retries and payment operations until nothing is
   * left; then, while some order is unfinished, lets the step timeouts and reservation TTLs pass and
   * runs the sweepers. Fails when that does not end.
   */
  async settle(): Promise<void> {
    this.log.push(`settle${(await this.releaseSlowAnswer()) ? ' (the slow call answers)' : ''}`);
    for (let jump = 0; jump < 12; jump += 1) {
      await this.drain();
      const statuses = await this.statuses();
      if ([...statuses.values()].every((status) => terminal.has(status))) return;
      if (await this.adminRetriesFailedPaymentOperations()) continue;
      this.log.push(`settle: clock past the step timeout and reservation TTL, sweeps (unfinished: ${[...statuses].filter(([, status]) => !terminal.has(status)).map(([orderId, status]) => `${this.labelOfOrder(orderId)} ${status}`).join(', ')})`);
      this.advanceClock(Math.max(stepTimeoutMs, reservationTtlSeconds * 1000) + 1000);
      await this.sweepExpiredReservations();
      await this.sweepTimeouts();
    }
    await this.drain();
  }

  /** An admin retries every payment operation given up for one (a void or refund whose gateway kept failing); false when there was none. */
  async adminRetriesFailedPaymentOperations(): Promise<boolean> {
    const failed = await sql<{ id: number; order_id: string; kind: string }>`select id, order_id, kind from payments.operations where status = 'failed' order by id`.execute(this.db);
    for (const operation of failed.rows) {
      const response = await this.app.inject({ method: 'POST', url: `/v1/admin/payment-operations/${String(operation.id)}/retry`, headers: { 'x-dev-customer-id': 'admin', 'x-dev-roles': 'admin' } });
      assert.equal(response.statusCode, 202, `an admin retrying the ${operation.kind} of ${this.labelOfOrder(operation.order_id)}: ${response.body}`);
      this.log.push(`settle: an admin retries the failed ${operation.kind} of ${this.labelOfOrder(operation.order_id)}`);
    }
    return failed.rows.length > 0;
  }

  async drain(): Promise<void> {
    for (let rounds = 0; rounds < 2000; rounds += 1) {
      if ((await this.messaging.relay.relayOnce()) > 0) continue;
      const next = this.transport.pending.shift();
      if (next !== undefined) {
        this.log.push(`    · ${this.describe(next)}`);
        await this.deliver(next, false);
        continue;
      }
      const waiting = await sql<{ retries: number; operations: number }>`
        select (select count(*)::int from messaging.retries) as retries,
               (select count(*)::int from payments.operations where status = 'pending') as operations`.execute(this.db);
      const { retries = 0, operations = 0 } = waiting.rows[0] ?? {};
      if (retries === 0 && operations === 0) return;
      // Retries and provider retries come due after a millisecond or two of real time.
      await new Promise((resolve) => setTimeout(resolve, 2));
      if (retries > 0) this.log.push(`    · ${String(await this.messaging.retries.retryDue())} retries attempted`);
      if (operations > 0) this.log.push(`    · paymentsWorker → ${await this.runPaymentsWorker('answers')}`);
    }
    throw new Error('messages, retries or payment operations kept coming after 2000 rounds');
  }

  async statuses(): Promise<Map<string, string>> {
    const rows = await sql<{ id: string; status: string }>`select id, status from orders.orders`.execute(this.db);
    return new Map(rows.rows.map((row) => [row.id, row.status]));
  }
}

function onlyTask(tasks: readonly BackgroundTask[], name: string): BackgroundTask {
  const task = tasks.find((candidate) => candidate.name === name);
  if (task === undefined) throw new Error(`no background task ${name}`);
  return task;
}

type Model = object;
type SagaCommand = fc.AsyncCommand<Model, SagaWorld>;

class PlaceOrder implements SagaCommand {
  readonly customer: string;
  readonly items: { sku: string; quantity: number }[];
  readonly token: string;

  constructor(customer: string, items: { sku: string; quantity: number }[], token: string) {
    this.customer = customer;
    this.items = items;
    this.token = token;
  }

  check(): boolean { return true; }

  async run(_model: Model, world: SagaWorld): Promise<void> {
    const label = `o${world.placements.length + 1}`;
    const key = `key-${label}`;
    const response = await placeRequest(world, this.customer, key, this.items, this.token);
    assert.equal(response.statusCode, 202, `placing ${label}: ${response.body}`);
    world.placements.push({ label, customer: this.customer, key, items: this.items, token: this.token, orderId: response.json<{ id: string }>().id });
    world.log.push(`${this.toString()} → ${label}`);
  }

  toString(): string {
    return `place(${this.customer}, ${this.items.map((item) => `${item.sku}×${String(item.quantity)}`).join(' ')}, ${this.token})`;
  }
}

class PlaceAgain implements SagaCommand {
  readonly pick: number;
  constructor(pick: number) { this.pick = pick; }
  check(): boolean { return true; }

  async run(_model: Model, world: SagaWorld): Promise<void> {
    const placement = world.placements[this.pick % Math.max(1, world.placements.length)];
    if (placement === undefined) {
      world.log.push(`${this.toString()} → no order yet`);
      return;
    }
    const response = await placeRequest(world, placement.customer, placement.key, placement.items, placement.token);
    assert.equal(response.statusCode, 202, `placing ${placement.label} again: ${response.body}`);
    assert.equal(response.json<{ id: string }>().id, placement.orderId, `placing ${placement.label} again with its key made another order`);
    world.log.push(`${this.toString()} → ${placement.label} replayed`);
  }

  toString(): string { return `placeAgainSameKey(${String(this.pick)})`; }
}

class Cancel implements SagaCommand {
  readonly pick: number;
  constructor(pick: number) { this.pick = pick; }
  check(): boolean { return true; }

  async run(_model: Model, world: SagaWorld): Promise<void> {
    const placement = world.placements[this.pick % Math.max(1, world.placements.length)];
    if (placement === undefined) {
      world.log.push(`${this.toString()} → no order yet`);
      return;
    }
    const response = await world.app.inject({ method: 'POST', url: `/v1/orders/${placement.orderId}/cancel`, headers: { 'x-dev-customer-id': placement.customer } });
    assert.ok([200, 202, 409].includes(response.statusCode), `cancelling ${placement.label}: ${response.statusCode} ${response.body}`);
    world.log.push(`${this.toString()} → ${placement.label} ${String(response.statusCode)}`);
  }

  toString(): string { return `cancel(${String(this.pick)})`; }
}

class Deliver implements SagaCommand {
  readonly pick: number;
  readonly crash: boolean;
  constructor(pick: number, crash: boolean) { this.pick = pick; this.crash = crash; }
  check(): boolean { return true; }

  async run(_model: Model, world: SagaWorld): Promise<void> {
    const pending = world.transport.pending;
    if (pending.length === 0) {
      world.log.push(`${this.toString()} → nothing pending`);
      return;
    }
    const [delivery] = pending.splice(this.pick % pending.length, 1);
    if (delivery === undefined) return;
    world.log.push(`${this.toString()} → ${world.describe(delivery)}`);
    await world.deliver(delivery, this.crash);
  }

  toString(): string { return this.crash ? `deliverThenCrashBeforeCommit(${String(this.pick)})` : `deliver(${String(this.pick)})`; }
}

class DeliverTwoAtOnce implements SagaCommand {
  readonly first: number;
  readonly second: number;
  constructor(first: number, second: number) { this.first = first; this.second = second; }
  check(): boolean { return true; }

  async run(_model: Model, world: SagaWorld): Promise<void> {
    const pending = world.transport.pending;
    const [one] = pending.splice(this.first % Math.max(1, pending.length), 1);
    const [other] = pending.splice(this.second % Math.max(1, pending.length), 1);
    const both = [one, other].filter((delivery) => delivery !== undefined);
    world.log.push(`${this.toString()} → ${both.length === 0 ? 'nothing pending' : both.map((delivery) => world.describe(delivery)).join(' with ')}`);
    await Promise.all(both.map((delivery) => world.deliver(delivery, false)));
  }

  toString(): string { return `deliverTwoAtOnce(${String(this.first)}, ${String(this.second)})`; }
}

class Redeliver implements SagaCommand {
  readonly pick: number;
  readonly crash: boolean;
  constructor(pick: number, crash: boolean) { this.pick = pick; this.crash = crash; }
  check(): boolean { return true; }

  async run(_model: Model, world: SagaWorld): Promise<void> {
    const delivery = world.delivered[this.pick % Math.max(1, world.delivered.length)];
    if (delivery === undefined) {
      world.log.push(`${this.toString()} → nothing delivered yet`);
      return;
    }
    world.log.push(`${this.toString()} → ${world.describe(delivery)} again`);
    await world.deliver(delivery, this.crash);
  }

  toString(): string { return this.crash ? `redeliverThenCrashBeforeCommit(${String(this.pick)})` : `redeliver(${String(this.pick)})`; }
}

class Relay implements SagaCommand {
  readonly crash: boolean;
  constructor(crash: boolean) { this.crash = crash; }
  check(): boolean { return true; }

  async run(_model: Model, world: SagaWorld): Promise<void> {
    world.transport.failNextPublish = this.crash;
    const published = await world.messaging.relay.relayOnce().catch(() => 'published, not marked sent');
    world.transport.failNextPublish = false;
    world.log.push(`${this.toString()} → ${String(published)}`);
  }

  toString(): string { return this.crash ? 'relayThenCrashBeforeMarking' : 'relay'; }
}

class RetryDue implements SagaCommand {
  check(): boolean { return true; }

  async run(_model: Model, world: SagaWorld): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 2));
    world.log.push(`${this.toString()} → ${String(await world.messaging.retries.retryDue())} attempted`);
  }

  toString(): string { return 'retryDueDeliveries'; }
}

class RunPaymentsWorker implements SagaCommand {
  readonly behaviour: GatewayBehaviour;
  constructor(behaviour: GatewayBehaviour) { this.behaviour = behaviour; }
  check(): boolean { return true; }

  async run(_model: Model, world: SagaWorld): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 2));
    world.log.push(`${this.toString()} → ${await world.runPaymentsWorker(this.behaviour)}`);
  }

  toString(): string { return `paymentsWorker(gateway ${this.behaviour})`; }
}

class ReleaseSlowAnswer implements SagaCommand {
  check(): boolean { return true; }

  async run(_model: Model, world: SagaWorld): Promise<void> {
    world.log.push(`${this.toString()} → ${(await world.releaseSlowAnswer()) ? 'answered' : 'none waiting'}`);
  }

  toString(): string { return 'gatewayAnswersSlowCall'; }
}

class DeliverEverything implements SagaCommand {
  check(): boolean { return true; }

  async run(_model: Model, world: SagaWorld): Promise<void> {
    if (world.slowRound !== undefined) {
      world.log.push(`${this.toString()} → skipped, the worker waits on a slow answer`);
      return;
    }
    world.log.push(this.toString());
    await world.drain();
    world.log.push(`    → ${[...(await world.statuses()).entries()].map(([orderId, status]) => `${world.labelOfOrder(orderId)} ${status}`).join(', ')}`);
  }

  toString(): string { return 'deliverEverythingInOrder'; }
}

class AdvanceClock implements SagaCommand {
  readonly ms: number;
  constructor(ms: number) { this.ms = ms; }
  check(): boolean { return true; }

  run(_model: Model, world: SagaWorld): Promise<void> {
    world.advanceClock(this.ms);
    world.log.push(this.toString());
    return Promise.resolve();
  }

  toString(): string { return `clock+${String(this.ms / 1000)}s`; }
}

class Sweep implements SagaCommand {
  readonly what: 'step-timeouts' | 'expired-reservations';
  constructor(what: 'step-timeouts' | 'expired-reservations') { this.what = what; }
  check(): boolean { return true; }

  async run(_model: Model, world: SagaWorld): Promise<void> {
    await (this.what === 'step-timeouts' ? world.sweepTimeouts() : world.sweepExpiredReservations());
    world.log.push(this.toString());
  }

  toString(): string { return `sweep(${this.what})`; }
}

function placeRequest(world: SagaWorld, customer: string, key: string, items: { sku: string; quantity: number }[], token: string) {
  return world.app.inject({
    method: 'POST', url: '/v1/orders', headers: { 'x-dev-customer-id': customer, 'x-dev-customer-email': `${customer}@example.com`, 'idempotency-key': key },
    payload: { items, payment: { token } },
  });
}

const pick = fc.nat({ max: 15 });
const line = fc.record({ sku: fc.constantFrom('SAGA-A', 'SAGA-B'), quantity: fc.integer({ min: 1, max: 2 }) });
const placeOrder = fc.tuple(
  fc.constantFrom(...customers),
  fc.uniqueArray(line, { minLength: 1, maxLength: 2, selector: (item) => item.sku }),
  fc.constantFrom('tok_visa', 'tok_visa', 'tok_visa', 'tok_declined'),
).map(([customer, items, token]) => new PlaceOrder(customer, items, token));
const deliver = pick.map((index) => new Deliver(index, false));
const relay = fc.constant(new Relay(false));
const paymentsWorker = fc.constantFrom<GatewayBehaviour>('answers', 'answers', 'unavailable', 'answer-lost', 'slow').map((behaviour) => new RunPaymentsWorker(behaviour));

/**
 * Each command arbitrary is drawn with equal chance, so the common ones (deliveries, relay, payments
 * worker) are listed several times: a saga takes about ten of them to finish, and schedules must
 * get far enough for cancels, timeouts and faults to meet captured money.
 */
const commands = fc.commands<Model, SagaWorld, false>([
  placeOrder, placeOrder,
  pick.map((index) => new PlaceAgain(index)),
  pick.map((index) => new Cancel(index)), pick.map((index) => new Cancel(index)),
  fc.tuple(pick, fc.boolean()).map(([index, crash]) => new Deliver(index, crash)), fc.tuple(pick, fc.boolean()).map(([index, crash]) => new Deliver(index, crash)),
  deliver, deliver, deliver, deliver, deliver, deliver,
  fc.tuple(pick, fc.boolean()).map(([index, crash]) => new Redeliver(index, crash)),
  fc.tuple(pick, pick).map(([first, second]) => new DeliverTwoAtOnce(first, second)),
  fc.boolean().map((crash) => new Relay(crash)), relay, relay, relay, relay,
  fc.constant(new RetryDue()),
  paymentsWorker, paymentsWorker, paymentsWorker, paymentsWorker,
  fc.constant(new ReleaseSlowAnswer()),
  fc.constant(new DeliverEverything()),
  fc.constantFrom(1000, stepTimeoutMs + 1000, reservationTtlSeconds * 1000 + 1000).map((ms) => new AdvanceClock(ms)),
  fc.constantFrom('step-timeouts', 'expired-reservations').map((what) => new Sweep(what)),
], { maxCommands: 150, size: 'large', ...(process.env.MODEL_REPLAY_PATH === undefined ? {} : { replayPath: process.env.MODEL_REPLAY_PATH }) });

/** What must hold once a schedule has settled; throws with what broke. */
async function checkInvariants(world: SagaWorld): Promise<void> {
  const orders = await sql<{ id: string; status: string; total_amount: string; cancellation_reason: string | null }>`
    select id, status, total_amount, cancellation_reason from orders.orders`.execute(world.db);
  const byId = new Map(orders.rows.map((row) => [row.id, row]));

  // One order per Idempotency-Key.
  assert.equal(orders.rows.length, world.placements.length, 'one order per placement, however often it was sent');

  const unfinished = orders.rows.filter((row) => !terminal.has(row.status)).map((row) => `${world.labelOfOrder(row.id)} ${row.status}`);
  assert.deepEqual(unfinished, [], 'every order is CONFIRMED or CANCELLED');

  const stock = await sql<{ sku: string; on_hand: string; reserved: string }>`select sku, on_hand, reserved from inventory.stock_items order by sku`.execute(world.db);
  for (const [sku, onHand] of Object.entries(initialStock)) {
    const confirmedUnits = world.placements
      .filter((placement) => byId.get(placement.orderId)?.status === 'CONFIRMED')
      .flatMap((placement) => placement.items).filter((item) => item.sku === sku).reduce((sum, item) => sum + item.quantity, 0);
    const row = stock.rows.find((candidate) => candidate.sku === sku);
    assert.deepEqual({ sku, onHand: Number(row?.on_hand), reserved: Number(row?.reserved) }, { sku, onHand: onHand - confirmedUnits, reserved: 0 },
      `${sku}: on hand + units of confirmed orders = ${String(onHand)}, nothing reserved`);
  }

  const payments = await sql<{ order_id: string; status: string }>`select order_id, status from payments.payments`.execute(world.db);
  const paymentStatus = new Map(payments.rows.map((row) => [row.order_id, row.status]));
  for (const order of orders.rows) {
    const ledger = world.gateway.ledgerOf(order.id);
    const label = world.labelOfOrder(order.id);
    assert.ok(ledger.captures <= 1, `${label} was captured ${String(ledger.captures)} times`);
    const kept = ledger.captured - ledger.refunded;
    if (order.status === 'CONFIRMED') {
      assert.equal(kept, Number(order.total_amount), `${label} CONFIRMED: the gateway keeps its total`);
      assert.equal(paymentStatus.get(order.id), 'captured', `${label} CONFIRMED: payments records it captured`);
    } else {
      assert.equal(kept, 0, `${label} CANCELLED (${String(order.cancellation_reason)}): the gateway keeps nothing of it (${JSON.stringify(ledger)})`);
      assert.notEqual(ledger.state, 'authorized', `${label} CANCELLED (${String(order.cancellation_reason)}): no hold is left on the card`);
      assert.ok(!['captured', 'authorized'].includes(paymentStatus.get(order.id) ?? 'none'), `${label} CANCELLED: payments records ${String(paymentStatus.get(order.id))}`);
    }
  }
  const deadLetters = await sql<{ consumer: string; last_error: string }>`select consumer, last_error from messaging.dead_letters`.execute(world.db);
  assert.deepEqual(deadLetters.rows, [], 'no message ends in the dead letters');
}

let world: SagaWorld;
let drop: () => Promise<void>;

before(async () => {
  const database = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, auditMigrations, inventoryMigrations, paymentsMigrations, ordersMigrations]);
  drop = database.drop;
  // Orders' step deadlines and inventory's reservation expiry follow the JavaScript clock: the
  // schedule moves it. Timers stay real (pools, retries and provider back-off run on them).
  mock.timers.enable({ apis: ['Date'], now: Date.now() });
  world = new SagaWorld(database.db);
  await world.app.ready();
});

after(async () => {
  await world.releaseSlowAnswer();
  await world.app.close();
  await world.messaging.stop();
  mock.timers.reset();
  await drop();
});

/** How the orders of the settled schedules ended, by outcome and by what the gateway did, so a generator that stops reaching a path shows. */
async function countOutcomes(world: SagaWorld, outcomes: Map<string, number>): Promise<void> {
  const rows = await sql<{ id: string; status: string; cancellation_reason: string | null }>`select id, status, cancellation_reason from orders.orders`.execute(world.db);
  for (const row of rows.rows) {
    const ledger = world.gateway.ledgerOf(row.id);
    const money = ledger.refunded > 0 ? 'refunded' : ledger.state;
    const outcome = `${row.status}${row.cancellation_reason === null ? '' : ` (${row.cancellation_reason})`}, gateway ${money}`;
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  }
}

test('when the saga\'s messages arrive in any order, duplicated, crashed and retried, with a slow or faulty gateway, timeouts and cancels, then every order ends terminal with stock and money consistent', async (t) => {
  const numRuns = Number(process.env.MODEL_RUNS ?? 40);
  const seed = Number(process.env.MODEL_SEED ?? 20_261_204);
  const outcomes = new Map<string, number>();
  await fc.assert(fc.asyncProperty(commands, async (schedule) => {
    await world.reset();
    try {
      await fc.asyncModelRun(() => ({ model: {}, real: world }), schedule);
      await world.settle();
      await checkInvariants(world);
      await countOutcomes(world, outcomes);
    } catch (error) {
      await world.releaseSlowAnswer().catch(() => undefined);
      throw new Error(`${error instanceof Error ? error.message : String(error)}\nwhat the schedule did:\n  ${world.log.join('\n  ')}`, { cause: error });
    }
  }), {
    numRuns, seed, endOnFailure: process.env.MODEL_SHRINK === 'false',
    ...(process.env.MODEL_PATH === undefined ? {} : { path: process.env.MODEL_PATH }),
    // Shrinking a long schedule can take minutes: stop in time to report the smallest one found so far
    // rather than let the runner's timeout swallow it.
    plugins: [fc.interruptAfterTimeLimit(Number(process.env.MODEL_TIME_LIMIT_MS ?? 100_000), { failOnInterrupt: true })],
  });
  t.diagnostic(`seed ${String(seed)}, ${String(numRuns)} schedules; orders by outcome: ${JSON.stringify(Object.fromEntries([...outcomes].sort()))}`);
  if (numRuns >= 20 && process.env.MODEL_PATH === undefined) {
    const reached = [...outcomes.keys()];
    for (const path of ['CONFIRMED', 'CANCELLED (', 'gateway refunded', 'gateway voided']) {
      assert.ok(reached.some((outcome) => outcome.includes(path)), `the schedules reached no order with "${path}": the generator lost a path`);
    }
  }
});
