import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { InMemoryInventory } from '../testing/in-memory-inventory.ts';
import { CommitStock } from './commit-stock.ts';
import { ExpireReservations } from './expire-reservations.ts';
import type { InventoryEvent } from './inventory-events.ts';
import { ReleaseStock } from './release-stock.ts';
import { ReserveStock } from './reserve-stock.ts';
import { RestockOrder } from './restock-order.ts';

/*
 * Model-based test of the inventory use cases under the delivery inventory really gets: one consumer
 * per command (its own consumer group on Kafka, a retry table in one process), so one order's
 * reserve, commit, restock and release overtake each other, arrive twice, and race the expiry
 * sweeper. Each order is driven by a transcription of the orders saga's stock steps
 * (orders/domain/order-saga.ts): it sends the commands the saga would send and reacts to inventory's
 * answers, which are delivered back to it in any order too. Payments and the customer are outside
 * events the schedule fires at any point.
 *
 * A fixed seed keeps CI repeatable and short; MODEL_RUNS=<n> runs more schedules and MODEL_SEED=<n>
 * explores others, e.g. `MODEL_RUNS=20000 MODEL_SEED=7 npm test -- <this file>`.
 */

const ttlSeconds = 60;
const skus = ['A', 'B'] as const;
const maxOrders = 3;
const numRuns = Number(process.env.MODEL_RUNS ?? 300);
const seed = Number(process.env.MODEL_SEED ?? 20_260_101);

type CommandKind = 'reserve-stock' | 'commit-stock' | 'release-stock' | 'restock';
type SagaStep = 'reserve-stock' | 'authorize-payment' | 'capture-payment' | 'commit-stock';
type StockCompensation = 'restock' | 'release-stock';
const forwardSteps: readonly SagaStep[] = ['reserve-stock', 'authorize-payment', 'capture-payment', 'commit-stock'];

/**
 * How an order's saga ends if the schedule does not interfere, one per path the saga takes: every
 * step succeeds; the payment is declined; the customer cancels while stock is being reserved, before
 * capture, or after the order was confirmed; commit-stock times out while its command is in flight.
 */
type Fate = 'confirmed' | 'payment-declined' | 'cancelled-while-reserving' | 'cancelled-before-capture' | 'cancelled-after-commit' | 'commit-timed-out';

interface OrderPlan {
  lines: { sku: string; quantity: number }[];
  fate: Fate;
}

/**
 * What the schedule does next. `progress` moves one order along its fate: what its fate does at this
 * point, else one of its messages in flight arrives (a command at inventory or an answer at its saga,
 * any of them, overtaking older ones), else its payment succeeds. `duplicate` delivers one of its
 * messages now and leaves it in flight to arrive again. A step that does not apply is skipped.
 */
type ScheduleStep =
  | { do: 'progress'; order: number; pick: number }
  | { do: 'duplicate'; order: number; pick: number }
  | { do: 'decline-payment'; order: number }
  | { do: 'cancel'; order: number }
  | { do: 'time-out'; order: number }
  | { do: 'sweep'; seconds: number };

type SettleOrder = 'oldest-first' | 'newest-first';

/** The stock side of one order's saga, as orders/domain/order-saga.ts runs it. */
interface Saga {
  status: 'RUNNING' | 'CONFIRMED' | 'CANCELLING' | 'CANCELLED';
  currentStep: SagaStep | null;
  started: SagaStep[];
  /** Payment compensations are left out: payments acknowledges them without touching stock. */
  pending: StockCompensation[];
}

class Model {
  readonly inventory = new InMemoryInventory();
  readonly initial = new Map<string, number>();
  readonly sagas: Saga[];
  readonly commands: { order: number; kind: CommandKind }[] = [];
  readonly answers: { order: number; event: InventoryEvent }[] = [];
  readonly trace: string[] = [];
  #clock = new Date('2026-01-01T00:00:00.000Z');
  readonly #now = () => this.#clock;
  readonly #reserve = new ReserveStock({ reservationTtlSeconds: ttlSeconds, now: this.#now });
  readonly #commit = new CommitStock();
  readonly #release = new ReleaseStock({ now: this.#now });
  readonly #restock = new RestockOrder();
  readonly #expire = new ExpireReservations({ now: this.#now });

  readonly orders: readonly OrderPlan[];

  constructor(stock: readonly number[], orders: readonly OrderPlan[]) {
    this.orders = orders;
    skus.forEach((sku, index) => {
      this.inventory.withStock(sku, stock[index] ?? 0);
      this.initial.set(sku, stock[index] ?? 0);
    });
    this.sagas = orders.map(() => ({ status: 'RUNNING', currentStep: 'reserve-stock', started: ['reserve-stock'], pending: [] }));
    orders.forEach((_, order) => { this.commands.push({ order, kind: 'reserve-stock' }); });
  }

  async run(step: ScheduleStep): Promise<void> {
    switch (step.do) {
      case 'progress': {
        const order = this.#order(step.order);
        if (this.#followFate(order)) return;
        const commands = indexesOf(this.commands, order);
        const answers = indexesOf(this.answers, order);
        const chosen = step.pick % Math.max(commands.length + answers.length, 1);
        const command = commands[chosen];
        const answer = answers[chosen - commands.length];
        if (command !== undefined) await this.#deliverCommand(command, false);
        else if (answer !== undefined) this.#deliverAnswer(answer);
        else this.#payment(order, true);
        return;
      }
      case 'duplicate': {
        const commands = indexesOf(this.commands, this.#order(step.order));
        const command = commands[step.pick % Math.max(commands.length, 1)];
        if (command !== undefined) await this.#deliverCommand(command, true);
        return;
      }
      case 'decline-payment':
        this.#payment(this.#order(step.order), false);
        return;
      case 'cancel':
        this.#cancel(this.#order(step.order));
        return;
      case 'time-out':
        this.#timeOut(this.#order(step.order));
        return;
      case 'sweep': {
        this.#clock = new Date(this.#clock.getTime() + step.seconds * 1000);
        const before = this.inventory.published.length;
        const expired = await this.inventory.run((store) => this.#expire.execute(store, 100));
        const events = this.#collect(before);
        if (expired > 0) this.trace.push(`sweep +${step.seconds}s → ${events.map(eventLabel).join(', ')}`);
        return;
      }
    }
  }

  /**
   * Lets everything in flight arrive, oldest or newest first, while payments approve and steps that
   * got no answer time out, as they would in the running system; the schedule then has settled.
   */
  async settle(order: SettleOrder): Promise<void> {
    const next = (inFlight: readonly unknown[]) => (order === 'oldest-first' ? 0 : inFlight.length - 1);
    for (let round = 0; round < 1000; round += 1) {
      this.checkStockBooks();
      if (this.commands.length > 0) await this.#deliverCommand(next(this.commands), false);
      else if (this.answers.length > 0) this.#deliverAnswer(next(this.answers));
      else if (this.orders.some((_, order) => this.#followFate(order))) continue;
      else {
        const waiting = this.sagas.findIndex((saga) => saga.currentStep !== null);
        if (waiting < 0) return;
        const step = this.#saga(waiting).currentStep;
        if (step === 'authorize-payment' || step === 'capture-payment') this.#payment(waiting, true);
        else this.#timeOut(waiting);
      }
    }
    assert.fail(`the schedule never settled:\n${this.trace.join('\n')}`);
  }

  /** What inventory's own records must always agree with, after every step. */
  checkStockBooks(): void {
    for (const sku of skus) {
      const level = this.inventory.stock.get(sku);
      assert.ok(level !== undefined);
      const held = this.#unitsOf(sku, (status) => status === 'active');
      const committed = this.#unitsOf(sku, (status) => status === 'committed');
      const broken = level.reserved < 0 || level.onHand - level.reserved < 0 ? 'negative stock'
        : level.reserved !== held ? `reserved is not the ${held} units active reservations hold`
          : level.onHand + committed !== this.initial.get(sku) ? `on hand + ${committed} committed units ≠ initial ${String(this.initial.get(sku))}`
            : undefined;
      if (broken !== undefined) assert.fail(`${sku} ${JSON.stringify(level)}: ${broken}\n${this.trace.join('\n')}`);
    }
  }

  /** Once settled: every saga ended, and the stock agrees with how each one ended. */
  checkOutcome(): void {
    const context = `\n${this.trace.join('\n')}`;
    this.sagas.forEach((saga, order) => {
      assert.ok(saga.status === 'CONFIRMED' || saga.status === 'CANCELLED', `o${order} stuck in ${saga.status} ${JSON.stringify(saga)}${context}`);
      const status = this.inventory.reservations.get(orderId(order))?.status;
      if (saga.status === 'CONFIRMED') assert.equal(status, 'committed', `confirmed o${order} has a ${String(status)} reservation${context}`);
      else assert.ok(status !== 'committed' && status !== 'active', `cancelled o${order} still holds stock (${String(status)})${context}`);
    });
    for (const sku of skus) {
      const level = this.inventory.stock.get(sku);
      const sold = this.orders.reduce((units, plan, order) => (this.#saga(order).status !== 'CONFIRMED' ? units
        : units + plan.lines.filter((line) => line.sku === sku).reduce((sum, line) => sum + line.quantity, 0)), 0);
      assert.equal((level?.onHand ?? 0) + sold, this.initial.get(sku), `${sku}: on hand + sold to confirmed orders ≠ initial ${JSON.stringify(level)}${context}`);
      assert.equal(level?.reserved, 0, `${sku}: units still reserved once every order is decided${context}`);
    }
  }

  #order(index: number): number {
    return index % this.orders.length;
  }

  #saga(order: number): Saga {
    const saga = this.sagas[order];
    assert.ok(saga !== undefined);
    return saga;
  }

  #unitsOf(sku: string, counts: (status: string) => boolean): number {
    let units = 0;
    for (const reservation of this.inventory.reservations.values()) {
      if (counts(reservation.status)) units += reservation.lines.filter((line) => line.sku === sku).reduce((sum, line) => sum + line.quantity, 0);
    }
    return units;
  }

  async #deliverCommand(index: number, again: boolean): Promise<void> {
    const command = this.commands[index];
    assert.ok(command !== undefined);
    if (!again) this.commands.splice(index, 1);
    const id = orderId(command.order);
    const before = this.inventory.published.length;
    const outcome = await this.inventory.run((store) => {
      switch (command.kind) {
        case 'reserve-stock': return this.#reserve.execute(store, { orderId: id, lines: this.orders[command.order]?.lines ?? [] });
        case 'commit-stock': return this.#commit.execute(store, { orderId: id });
        case 'release-stock': return this.#release.execute(store, { orderId: id, reason: 'cancelled' });
        case 'restock': return this.#restock.execute(store, { orderId: id, reason: 'cancelled' });
      }
    });
    const events = this.#collect(before);
    this.trace.push(`o${command.order} ${command.kind}${again ? ' (and again later)' : ''} → ${outcome}: ${events.map(eventLabel).join(', ')}`);
    // The saga waits for an answer to every command it sends (an acknowledgement, for a compensation).
    assert.equal(events.length, 1, `${command.kind} of o${command.order} must be answered once\n${this.trace.join('\n')}`);
  }

  #collect(before: number): InventoryEvent[] {
    const events = this.inventory.published.slice(before);
    for (const event of events) this.answers.push({ order: Number(event.payload.orderId.slice(1)), event });
    return events;
  }

  #deliverAnswer(index: number): void {
    const [answer] = this.answers.splice(index, 1);
    assert.ok(answer !== undefined);
    const saga = this.#saga(answer.order);
    const before = JSON.stringify(saga);
    const { event } = answer;
    switch (event.name) {
      case 'reserved': this.#stepSucceeded(answer.order, 'reserve-stock'); break;
      case 'reservationFailed': this.#stepFailed(answer.order, 'reserve-stock'); break;
      case 'committed': this.#stepSucceeded(answer.order, 'commit-stock'); break;
      case 'commitFailed': this.#stepFailed(answer.order, 'commit-stock'); break;
      case 'restocked': this.#acknowledge(answer.order, 'restock'); break;
      case 'released':
        if (saga.status === 'CANCELLING') this.#acknowledge(answer.order, 'release-stock');
        // A reservation that expired under a running saga stops it before money moves; once commit-stock started, commit decides.
        else if (event.payload.reason === 'expired' && saga.currentStep !== null && !saga.started.includes('commit-stock')) {
          this.#beginCompensation(answer.order, compensationsFor(saga.started));
        }
        break;
    }
    const after = JSON.stringify(saga);
    this.trace.push(`  o${answer.order} saga ← ${eventLabel(event)}${after === before ? ' (ignored)' : `: ${[saga.status, saga.currentStep ?? '', ...saga.pending].filter(Boolean).join(' ')}`}`);
  }

  #payment(order: number, approved: boolean): void {
    const step = this.#saga(order).currentStep;
    if (step !== 'authorize-payment' && step !== 'capture-payment') return;
    this.trace.push(`o${order} ${step} ${approved ? 'succeeds' : 'is declined'}`);
    if (approved) this.#stepSucceeded(order, step);
    else this.#stepFailed(order, step);
  }

  /** Does what the order's fate does at its current step; answers whether it did anything. */
  #followFate(order: number): boolean {
    const saga = this.#saga(order);
    switch (this.orders[order]?.fate) {
      case 'payment-declined':
        if (saga.currentStep !== 'authorize-payment') return false;
        this.#payment(order, false);
        return true;
      case 'cancelled-while-reserving':
        return saga.currentStep === 'reserve-stock' && this.#cancel(order);
      case 'cancelled-before-capture':
        return saga.currentStep === 'capture-payment' && this.#cancel(order);
      case 'cancelled-after-commit':
        return saga.status === 'CONFIRMED' && this.#cancel(order);
      case 'commit-timed-out':
        if (saga.currentStep !== 'commit-stock') return false;
        this.#timeOut(order);
        return true;
      default:
        return false;
    }
  }

  #cancel(order: number): boolean {
    const saga = this.#saga(order);
    if (saga.status === 'CANCELLING' || saga.status === 'CANCELLED') return false;
    this.trace.push(`o${order} customer cancels`);
    this.#beginCompensation(order, compensationsFor(saga.started));
    return true;
  }

  /** A step past its deadline is compensated; compensations past theirs are sent again, as new messages. */
  #timeOut(order: number): void {
    const saga = this.#saga(order);
    if (saga.status === 'CANCELLING') {
      this.trace.push(`o${order} ${saga.pending.join(' and ')} sent again`);
      for (const kind of saga.pending) this.commands.push({ order, kind });
      return;
    }
    if (saga.currentStep === null) return;
    this.trace.push(`o${order} ${saga.currentStep} times out`);
    this.#beginCompensation(order, compensationsFor(saga.started));
  }

  #stepSucceeded(order: number, step: SagaStep): void {
    const saga = this.#saga(order);
    if (saga.currentStep !== step) return;
    const next = forwardSteps[forwardSteps.indexOf(step) + 1];
    if (next === undefined) {
      saga.status = 'CONFIRMED';
      saga.currentStep = null;
      return;
    }
    saga.currentStep = next;
    saga.started.push(next);
    if (next === 'commit-stock') this.commands.push({ order, kind: 'commit-stock' });
  }

  #stepFailed(order: number, step: SagaStep): void {
    const saga = this.#saga(order);
    if (saga.currentStep !== step) return;
    this.#beginCompensation(order, compensationsFor(saga.started.filter((started) => started !== step)));
  }

  #beginCompensation(order: number, compensations: StockCompensation[]): void {
    const saga = this.#saga(order);
    saga.currentStep = null;
    saga.pending = compensations;
    saga.status = compensations.length === 0 ? 'CANCELLED' : 'CANCELLING';
    for (const kind of compensations) this.commands.push({ order, kind });
  }

  #acknowledge(order: number, compensation: StockCompensation): void {
    const saga = this.#saga(order);
    if (saga.status !== 'CANCELLING' || !saga.pending.includes(compensation)) return;
    saga.pending = saga.pending.filter((pending) => pending !== compensation);
    if (saga.pending.length === 0) saga.status = 'CANCELLED';
  }
}

/** Where an order's items are among those in flight. */
function indexesOf(inFlight: readonly { order: number }[], order: number): number[] {
  return inFlight.flatMap((item, index) => (item.order === order ? [index] : []));
}

/** The stock compensations that undo `steps`, as the saga's `compensationsFor` lists them. */
function compensationsFor(steps: readonly SagaStep[]): StockCompensation[] {
  return [...(steps.includes('commit-stock') ? ['restock' as const] : []), ...(steps.includes('reserve-stock') ? ['release-stock' as const] : [])];
}

function orderId(order: number): string {
  return `o${order}`;
}

function eventLabel(event: InventoryEvent): string {
  return event.name === 'released' ? `released(${event.payload.reason})` : event.name;
}

const stockArbitrary = fc.array(fc.integer({ min: 1, max: 5 }), { minLength: skus.length, maxLength: skus.length });
const orderArbitrary: fc.Arbitrary<OrderPlan> = fc.record({
  lines: fc.array(fc.record({ sku: fc.constantFrom(...skus), quantity: fc.integer({ min: 1, max: 2 }) }), { minLength: 1, maxLength: 2 }),
  fate: fc.constantFrom<Fate>('confirmed', 'payment-declined', 'cancelled-while-reserving', 'cancelled-before-capture', 'cancelled-after-commit', 'commit-timed-out'),
});
const order = fc.nat(maxOrders - 1);
const pick = fc.nat(7);
const stepArbitrary: fc.Arbitrary<ScheduleStep> = fc.oneof(
  { weight: 16, arbitrary: fc.record({ do: fc.constant('progress' as const), order, pick }) },
  { weight: 2, arbitrary: fc.record({ do: fc.constant('duplicate' as const), order, pick }) },
  { weight: 1, arbitrary: fc.record({ do: fc.constant('decline-payment' as const), order }) },
  { weight: 1, arbitrary: fc.record({ do: fc.constant('cancel' as const), order }) },
  { weight: 1, arbitrary: fc.record({ do: fc.constant('time-out' as const), order }) },
  { weight: 1, arbitrary: fc.record({ do: fc.constant('sweep' as const), seconds: fc.integer({ min: 1, max: 2 * ttlSeconds }) }) },
);

type ModelCase = [stock: number[], orders: OrderPlan[], schedule: ScheduleStep[], settleOrder: SettleOrder];
const next = (order: number, pick = 0): ScheduleStep => ({ do: 'progress', order, pick });

/**
 * Schedules run before the generated ones, every time: the leak this test first found (a late
 * commit-stock taking the units of an order whose restock and release overtook it), and one too deep
 * for random schedules to reach often (a refused commit-stock, delivered again once another order
 * freed the units, while its saga's release is still on its way).
 */
const knownCases: ModelCase[] = [
  [[1, 1], [{ lines: [{ sku: 'A', quantity: 1 }], fate: 'commit-timed-out' }], [next(0), next(0), next(0), next(0), next(0)], 'newest-first'],
  [
    [1, 1],
    [{ lines: [{ sku: 'A', quantity: 1 }], fate: 'confirmed' }, { lines: [{ sku: 'A', quantity: 1 }], fate: 'payment-declined' }],
    [
      next(0), next(0), next(0), next(0), { do: 'sweep', seconds: ttlSeconds + 1 }, next(1), { do: 'duplicate', order: 0, pick: 0 },
      next(0, 2), next(1), next(1), next(1), next(0),
    ],
    'oldest-first',
  ],
];

test('when several orders\' stock commands arrive in any order, twice, and race the expiry sweeper, then a cancelled order holds no stock, a confirmed one keeps its units, and every order ends', async () => {
  await fc.assert(
    fc.asyncProperty(
      stockArbitrary,
      fc.array(orderArbitrary, { minLength: 1, maxLength: maxOrders }),
      fc.array(stepArbitrary, { maxLength: 60, size: 'max' }),
      fc.constantFrom<SettleOrder>('oldest-first', 'newest-first'),
      async (stock, orders, schedule, settleOrder) => {
        const model = new Model(stock, orders);
        for (const step of schedule) {
          await model.run(step);
          model.checkStockBooks();
        }
        await model.settle(settleOrder);
        model.checkOutcome();
      },
    ),
    { seed, numRuns, examples: knownCases },
  );
});
