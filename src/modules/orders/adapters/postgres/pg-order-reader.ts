import type { Kysely } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import type { OrderCursor, OrderReader } from '../../application/ports.ts';
import type { Order } from '../../domain/order.ts';
import { toOrder, type OrdersTables } from './order-rows.ts';

/** Order queries outside transactions. */
export class PgOrderReader implements OrderReader {
  readonly #db: Kysely<OrdersTables>;

  constructor(db: Database) {
    this.#db = db.$extendTables<OrdersTables>();
  }

  async findById(orderId: string): Promise<Order | undefined> {
    const row = await this.#db.selectFrom('orders.orders').selectAll().where('id', '=', orderId).executeTakeFirst();
    return row === undefined ? undefined : toOrder(row);
  }

  async listByCustomer(customerId: string, page: { limit: number; after?: OrderCursor }): Promise<{ items: Order[]; next: OrderCursor | null }> {
    let query = this.#db.selectFrom('orders.orders').selectAll().where('customer_id', '=', customerId);
    const after = page.after;
    if (after !== undefined) query = query.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(after.createdAt, after.id)));
    const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(page.limit + 1).execute();
    const items = rows.slice(0, page.limit).map(toOrder);
    const last = items.at(-1);
    return { items, next: rows.length > page.limit && last !== undefined ? { createdAt: last.createdAt, id: last.id } : null };
  }

  async findTimedOut(now: Date, limit: number): Promise<string[]> {
    const rows = await this.#db.selectFrom('orders.orders').select('id')
      .where('step_deadline', 'is not', null).where('step_deadline', '<=', now)
      .orderBy('step_deadline').limit(limit).execute();
    return rows.map((row) => row.id);
  }

  async countUnfinished(): Promise<number> {
    // An order has a deadline exactly while it is unfinished (reaching CONFIRMED or CANCELLED clears
    // it), so this counts entries of the partial index orders_deadline and never reads a finished order.
    const row = await this.#db.selectFrom('orders.orders').select((eb) => eb.fn.countAll().as('count'))
      .where('step_deadline', 'is not', null).executeTakeFirstOrThrow();
    return Number(row.count);
  }
}
