import type { SagaAction } from '../domain/order-saga.ts';
import type { Order } from '../domain/order.ts';
import type {
  AdminAct, IdempotencyKeyAnswer, IdempotencyKeyRequest, IdempotencyKeys, OrderCursor, OrderReader, OrderStore, OrderTransactions,
} from '../application/ports.ts';

/** One idempotency key as `orders.idempotency_keys` keeps it. */
export interface IdempotencyKeyRow {
  requestHash: string;
  state: 'in-progress' | 'completed';
  order: Order | null;
  claimToken: string | null;
  claimedAt: Date;
  expiresAt: Date;
}

/**
 * Idempotency keys in a map, with PostgreSQL's rules: an order placed under its key in one step,
 * expiry by an injectable clock, and an `in-progress` claim (as earlier versions made) taken over
 * after the takeover time. Placing hands the order to `place`, as the statement writes it.
 */
export class InMemoryIdempotencyKeys implements IdempotencyKeys {
  readonly rows = new Map<string, IdempotencyKeyRow>();
  readonly #now: () => Date;
  readonly #ttlHours: number;
  readonly #takeoverAfterSeconds: number;
  readonly #place: (order: Order, actions: readonly SagaAction[]) => void;

  constructor(options: {
    now?: () => Date; ttlHours?: number; takeoverAfterSeconds?: number; place?: (order: Order, actions: readonly SagaAction[]) => void;
  } = {}) {
    this.#now = options.now ?? (() => new Date());
    this.#ttlHours = options.ttlHours ?? 24;
    this.#takeoverAfterSeconds = options.takeoverAfterSeconds ?? 60;
    this.#place = options.place ?? (() => undefined);
  }

  placeUnderKey(order: Order, request: IdempotencyKeyRequest, actions: readonly SagaAction[]): Promise<boolean> {
    const now = this.#now();
    const existing = this.rows.get(rowKey(request.customerId, request.key));
    const abandoned = existing?.state === 'in-progress' && existing.claimedAt.getTime() < now.getTime() - this.#takeoverAfterSeconds * 1000;
    if (existing !== undefined && existing.expiresAt > now && !abandoned) return Promise.resolve(false);
    this.rows.set(rowKey(request.customerId, request.key), {
      requestHash: request.requestHash, state: 'completed', order, claimToken: null, claimedAt: now,
      expiresAt: new Date(now.getTime() + this.#ttlHours * 3_600_000),
    });
    this.#place(order, actions);
    return Promise.resolve(true);
  }

  lookUp(customerId: string, key: string, requestHash: string): Promise<IdempotencyKeyAnswer | undefined> {
    const existing = this.rows.get(rowKey(customerId, key));
    return Promise.resolve(existing === undefined || existing.expiresAt <= this.#now() ? undefined : answerOf(existing, requestHash));
  }

  /** The key as stored, for assertions. */
  peek(customerId: string, key: string): IdempotencyKeyRow | undefined {
    return this.rows.get(rowKey(customerId, key));
  }
}

function answerOf(row: IdempotencyKeyRow, requestHash: string): IdempotencyKeyAnswer {
  if (row.requestHash !== requestHash) return { kind: 'different-request' };
  if (row.state === 'in-progress' || row.order === null) return { kind: 'in-progress' };
  return { kind: 'replay', order: row.order };
}

function rowKey(customerId: string, key: string): string {
  return JSON.stringify([customerId, key]);
}

/** Orders kept in a map, with the saga actions each write asked for; for use-case tests. */
export class InMemoryOrders implements OrderTransactions, OrderReader {
  readonly orders = new Map<string, Order>();
  readonly actions: SagaAction[] = [];
  /** Administrative acts recorded by committed work, as the audit trail would keep them. */
  readonly adminActs: AdminAct[] = [];
  /** The idempotency keys under which orders are placed (into `orders` and `actions`). */
  readonly idempotencyKeys: InMemoryIdempotencyKeys;

  constructor(idempotency: ConstructorParameters<typeof InMemoryIdempotencyKeys>[0] = {}) {
    this.idempotencyKeys = new InMemoryIdempotencyKeys({
      ...idempotency,
      place: (order, caused) => { this.orders.set(order.id, order); this.actions.push(...caused); },
    });
  }

  async run<T>(work: (store: OrderStore) => Promise<T>): Promise<T> {
    // Writes land in a copy that replaces the orders only if the work succeeds, as a rollback would.
    const staged = new Map(this.orders);
    const actions: SagaAction[] = [];
    const completions: (() => void)[] = [];
    const store: OrderStore = {
      lock: (orderId) => Promise.resolve(staged.get(orderId)),
      insert: (order, caused) => { staged.set(order.id, order); actions.push(...caused); return Promise.resolve(); },
      update: (order, caused) => { staged.set(order.id, order); actions.push(...caused); return Promise.resolve(); },
      recordAdminAct: (act) => { completions.push(() => { this.adminActs.push(act); }); return Promise.resolve(); },
    };
    const result = await work(store);
    for (const complete of completions) complete();
    for (const [id, order] of staged) this.orders.set(id, order);
    this.actions.push(...actions);
    return result;
  }

  findById(orderId: string): Promise<Order | undefined> {
    return Promise.resolve(this.orders.get(orderId));
  }

  listByCustomer(customerId: string, page: { limit: number; after?: OrderCursor }): Promise<{ items: Order[]; next: OrderCursor | null }> {
    const items = [...this.orders.values()].filter((order) => order.customer.id === customerId).slice(0, page.limit);
    return Promise.resolve({ items, next: null });
  }

  findTimedOut(now: Date, limit: number): Promise<string[]> {
    return Promise.resolve([...this.orders.values()]
      .filter((order) => order.stepDeadline !== null && order.stepDeadline <= now).slice(0, limit).map((order) => order.id));
  }

  countUnfinished(): Promise<number> {
    return Promise.resolve([...this.orders.values()].filter((order) => order.status !== 'CONFIRMED' && order.status !== 'CANCELLED').length);
  }
}
