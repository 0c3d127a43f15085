import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { appendToOutbox } from '../../../../platform/messaging/index.ts';
import type { HeldIdempotencyKey, OrderStore, OrderTransactions } from '../../application/ports.ts';
import type { SagaAction } from '../../domain/order-saga.ts';
import type { Order } from '../../domain/order.ts';
import { messagesFor, orderPlacedMessage } from '../messaging/saga-messages.ts';
import { storeOrder, toOrder, toRow, type OrdersTables } from './order-rows.ts';

/** Order writes on one open transaction; each write appends the messages its saga actions call for. */
export class PgOrderStore implements OrderStore {
  readonly #transaction: Kysely<OrdersTables>;
  readonly #held: Map<string, Order> | undefined;

  /** `held`: orders this transaction locked already (`lockMany`), as they stand now; updates keep it current. */
  constructor(transaction: Transaction<object>, held?: Map<string, Order>) {
    this.#transaction = transaction.$extendTables<OrdersTables>();
    this.#held = held;
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
    await this.#transaction.insertInto('orders.orders').values(toRow(order)).execute();
    await appendToOutbox(this.#transaction, [orderPlacedMessage(order), ...messagesFor(order, actions)]);
  }

  async update(order: Order, actions: readonly SagaAction[]): Promise<void> {
    const { id, ...changes } = toRow(order);
    const result = await this.#transaction.updateTable('orders.orders').set(changes)
      .where('id', '=', id).where('version', '=', order.version - 1).executeTakeFirst();
    if (result.numUpdatedRows !== 1n) throw new Error(`Order ${id} changed under a lock; version ${order.version - 1} expected`);
    this.#held?.set(id, order);
    await appendToOutbox(this.#transaction, messagesFor(order, actions));
  }

  async completeIdempotencyKey(claim: HeldIdempotencyKey, order: Order): Promise<boolean> {
    // The row lock this takes until commit makes a concurrent takeover wait and then find the key completed.
    const result = await this.#transaction.updateTable('orders.idempotency_keys')
      .set({ state: 'completed', order_snapshot: JSON.stringify(storeOrder(order)) })
      .where('customer_id', '=', claim.customerId).where('key', '=', claim.key)
      .where('state', '=', 'in-progress').where('claim_token', '=', claim.token)
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
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
