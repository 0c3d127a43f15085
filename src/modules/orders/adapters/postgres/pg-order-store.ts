import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { recordAdminAct } from '../../../../platform/audit/index.ts';
import { appendToOutbox } from '../../../../platform/messaging/index.ts';
import type { AdminAct, OrderStore, OrderTransactions } from '../../application/ports.ts';
import type { SagaAction } from '../../domain/order-saga.ts';
import type { Order } from '../../domain/order.ts';
import { messagesFor, orderPlacedMessage } from '../messaging/saga-messages.ts';
import { storeTimelineEntry, toOrder, toRow, type OrdersTables } from './order-rows.ts';

/**
 * Updates a batch's transaction holds back until `writeDeferred`: by order id, the order as it
 * stands and the version it had when locked.
 */
export type DeferredOrderUpdates = Map<string, { order: Order; lockedVersion: number }>;

/** Order writes on one open transaction; each write appends the messages its saga actions call for. */
export class PgOrderStore implements OrderStore {
  readonly #transaction: Kysely<OrdersTables>;
  readonly #held: Map<string, Order> | undefined;
  readonly #deferred: DeferredOrderUpdates | undefined;

  /**
   * `held`: orders this transaction locked already (`lockMany`), as they stand now; updates keep it
   * current. `deferred`: updates of held orders are kept there, to be written together by
   * `writeDeferred` before the transaction commits, rather than one statement each.
   */
  constructor(transaction: Transaction<object>, held?: Map<string, Order>, deferred?: DeferredOrderUpdates) {
    this.#transaction = transaction.$extendTables<OrdersTables>();
    this.#held = held;
    this.#deferred = held === undefined ? undefined : deferred;
  }

  async lock(orderId: string): Promise<Order | undefined> {
    const held = this.#held?.get(orderId);
    if (held !== undefined) return held;
    const row = await this.#transaction.selectFrom('orders.orders').selectAll().where('id', '=', orderId).forUpdate().executeTakeFirst();
    return row === undefined ? undefined : toOrder(row);
  }

  /**
   * Locks the orders in id order, the one order in which a transaction locks several, so no two such
   * wait on each other in a cycle; returns them by id (an unknown id is absent).
   */
  async lockMany(orderIds: readonly string[]): Promise<Map<string, Order>> {
    if (orderIds.length === 0) return new Map();
    const rows = await this.#transaction.selectFrom('orders.orders').selectAll().where('id', 'in', [...new Set(orderIds)]).orderBy('id').forUpdate().execute();
    return new Map(rows.map((row) => [row.id, toOrder(row)]));
  }

  async insert(order: Order, actions: readonly SagaAction[]): Promise<void> {
    // The order and its search rows in one statement.
    await sql`with ${sql.join(orderInsert(order))} select from placed`.execute(this.#transaction);
    await appendToOutbox(this.#transaction, [orderPlacedMessage(order), ...messagesFor(order, actions)]);
  }

  async update(order: Order, actions: readonly SagaAction[]): Promise<void> {
    if (this.#deferred !== undefined && this.#held?.has(order.id) === true) {
      const lockedVersion = this.#deferred.get(order.id)?.lockedVersion ?? order.version - 1;
      this.#deferred.set(order.id, { order, lockedVersion });
      this.#held.set(order.id, order);
      await appendToOutbox(this.#transaction, messagesFor(order, actions));
      return;
    }
    const { id, ...changes } = toRow(order);
    const result = await this.#transaction.updateTable('orders.orders').set(changes)
      .where('id', '=', id).where('version', '=', order.version - 1).executeTakeFirst();
    if (result.numUpdatedRows !== 1n) throw new Error(`Order ${id} changed under a lock; version ${order.version - 1} expected`);
    this.#held?.set(id, order);
    await appendToOutbox(this.#transaction, messagesFor(order, actions));
  }

  /**
   * Writes the deferred updates in one statement: every row from its new state, where it still has
   * the version it was locked at (it must: the transaction holds its lock). Throws when one did not.
   */
  async writeDeferred(): Promise<void> {
    const deferred = this.#deferred;
    if (deferred === undefined || deferred.size === 0) return;
    const updates = [...deferred.values()];
    deferred.clear();
    const rows = updates.map(({ order }) => ({
      ...toRow(order), lines: order.lines, timeline: order.timeline.map(storeTimelineEntry),
    }));
    const result = await sql`
      update orders.orders o
      set customer_id = c.customer_id, customer_email = c.customer_email, status = c.status, lines = c.lines,
          total_amount = c.total_amount, currency = c.currency, payment_token = c.payment_token, started_steps = c.started_steps,
          current_step = c.current_step, step_deadline = c.step_deadline, pending_compensations = c.pending_compensations,
          cancellation_reason = c.cancellation_reason, refunded_amount = c.refunded_amount, timeline = c.timeline,
          created_at = c.created_at, updated_at = c.updated_at, version = c.version, confirmed_at = c.confirmed_at, cancelled_at = c.cancelled_at
      from jsonb_populate_recordset(null::orders.orders, ${JSON.stringify(rows)}::jsonb) as c
      join unnest(${updates.map(({ order }) => order.id)}::text[], ${updates.map(({ lockedVersion }) => lockedVersion)}::int[]) as locked (id, version)
        on locked.id = c.id
      where o.id = c.id and o.version = locked.version`.execute(this.#transaction);
    if (Number(result.numAffectedRows ?? 0n) !== updates.length) {
      throw new Error(`${String(updates.length - Number(result.numAffectedRows ?? 0n))} of ${String(updates.length)} orders changed under their locks`);
    }
  }

  async recordAdminAct(act: AdminAct): Promise<void> {
    await recordAdminAct(this.#transaction, 'orders', act);
  }
}

/** Runs order work in a PostgreSQL transaction. */
export class PgOrderTransactions implements OrderTransactions {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  run<T>(work: (store: OrderStore) => Promise<T>): Promise<T> {
    return this.#db.transaction().execute((transaction) => work(new PgOrderStore(transaction)));
  }
}

/**
 * The CTEs that write a new order and its search rows (`placed`, `searched`, `searched_skus`), for a
 * statement that writes the order with other things in one step; with `gate`, only when the
 * statement's CTE of that name returned a row.
 */
export function orderInsert(order: Order, gate?: string): RawBuilder<unknown>[] {
  const row = Object.entries(toRow(order));
  // In `insert … select` PostgreSQL types each parameter by the column it goes to.
  return [
    sql`placed as (
      insert into orders.orders (${sql.join(row.map(([column]) => sql.ref(column)))})
      select ${sql.join(row.map(([, value]) => sql`${value}`))} ${gate === undefined ? sql`` : sql`from ${sql.table(gate)}`}
      returning id, created_at, customer_email, lines)`,
    sql`searched as (
      insert into orders.order_search (order_id, created_at, customer_email_lower) select id, created_at, lower(customer_email) from placed)`,
    sql`searched_skus as (
      insert into orders.order_search_skus (sku, created_at, order_id)
      select distinct line->>'sku', placed.created_at, placed.id from placed, jsonb_array_elements(placed.lines) line)`,
  ];
}
