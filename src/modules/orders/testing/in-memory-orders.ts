import type { SagaAction } from '../domain/order-saga.ts';
import type { Order } from '../domain/order.ts';
import type {
  AdminAct, HeldIdempotencyKey, IdempotencyClaim, IdempotencyKeyAnswer, IdempotencyKeys, OrderCursor, OrderReader, OrderStore, OrderTransactions,
} from '../application/ports.ts';

/** One idempotency key as `orders.idempotency_keys` keeps it. */
export interface IdempotencyKeyRow {
  requestHash: string;
  state: 'in-progress' | 'completed';
  order: Order | null;
  claimToken: string;
  claimedAt: Date;
  expiresAt: Date;
}

/**
 * Idempotency keys in a map, with PostgreSQL's rules: a token per claim, takeover after the
 * takeover time and expiry by an injectable clock, completion and release by the current token only.
 */
export class InMemoryIdempotencyKeys implements IdempotencyKeys {
  readonly rows = new Map<string, IdempotencyKeyRow>();
  readonly #now: () => Date;
  readonly #ttlHours: number;
  readonly #takeoverAfterSeconds: number;
  #claims = 0;

  constructor(options: { now?: () => Date; ttlHours?: number; takeoverAfterSeconds?: number } = {}) {
    this.#now = options.now ?? (() => new Date());
    this.#ttlHours = options.ttlHours ?? 24;
    this.#takeoverAfterSeconds = options.takeoverAfterSeconds ?? 60;
  }

  claim(customerId: string, key: string, requestHash: string): Promise<IdempotencyClaim> {
    const now = this.#now();
    const existing = this.rows.get(rowKey(customerId, key));
    const abandoned = existing?.state === 'in-progress' && existing.claimedAt.getTime() < now.getTime() - this.#takeoverAfterSeconds * 1000;
    if (existing === undefined || existing.expiresAt <= now || abandoned) {
      this.#claims += 1;
      const token = `claim-${String(this.#claims)}`;
      this.rows.set(rowKey(customerId, key), {
        requestHash, state: 'in-progress', order: null, claimToken: token, claimedAt: now, expiresAt: new Date(now.getTime() + this.#ttlHours * 3_600_000),
      });
      return Promise.resolve({ kind: 'claimed', claim: { customerId, key, token } });
    }
    return Promise.resolve(answerOf(existing, requestHash));
  }

  release(claim: HeldIdempotencyKey): Promise<void> {
    if (this.holds(claim)) this.rows.delete(rowKey(claim.customerId, claim.key));
    return Promise.resolve();
  }

  lookUp(customerId: string, key: string, requestHash: string): Promise<IdempotencyKeyAnswer | undefined> {
    const existing = this.rows.get(rowKey(customerId, key));
    return Promise.resolve(existing === undefined || existing.expiresAt <= this.#now() ? undefined : answerOf(existing, requestHash));
  }

  /** The key as stored, for assertions. */
  peek(customerId: string, key: string): IdempotencyKeyRow | undefined {
    return this.rows.get(rowKey(customerId, key));
  }

  /** Whether the key is still in progress under this claim. */
  holds(claim: HeldIdempotencyKey): boolean {
    const row = this.rows.get(rowKey(claim.customerId, claim.key));
    return row?.state === 'in-progress' && row.claimToken === claim.token;
  }

  /** Completes the key with its order, as the order transaction commits. */
  complete(claim: HeldIdempotencyKey, order: Order): void {
    const row = this.rows.get(rowKey(claim.customerId, claim.key));
    // PostgreSQL's row lock keeps a takeover out between completing and committing; here it must not have happened.
    if (row === undefined || !this.holds(claim)) throw new Error(`Idempotency key ${claim.key} was taken over inside an open transaction`);
    this.rows.set(rowKey(claim.customerId, claim.key), { ...row, state: 'completed', order });
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
  /** The idempotency keys whose completion commits with the orders. */
  readonly idempotencyKeys: InMemoryIdempotencyKeys;

  constructor(idempotency: ConstructorParameters<typeof InMemoryIdempotencyKeys>[0] = {}) {
    this.idempotencyKeys = new InMemoryIdempotencyKeys(idempotency);
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
      completeIdempotencyKey: (claim, order) => {
        if (!this.idempotencyKeys.holds(claim)) return Promise.resolve(false);
        completions.push(() => { this.idempotencyKeys.complete(claim, order); });
        return Promise.resolve(true);
      },
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
