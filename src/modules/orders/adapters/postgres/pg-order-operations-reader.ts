import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import type { MinuteCounts, OrderCursor, OrderFilter, OrderOperationsReader } from '../../application/ports.ts';
import type { Order, OrderStatus } from '../../domain/order.ts';
import { searchWalk } from './order-search-walk.ts';
import { toOrder, type OrdersTable, type OrdersTables } from './order-rows.ts';

// A finished order has no deadline and an unfinished one has one (order-saga.ts): saying so lets
// the planner read orders_finished_newest or orders_deadline, which hold only those orders.
const finished: ReadonlySet<OrderStatus> = new Set(['CONFIRMED', 'CANCELLED']);

/** The admin's order queries (migration 004 indexes each of them, most in its order_search tables). */
export class PgOrderOperationsReader implements OrderOperationsReader {
  readonly #db: Kysely<OrdersTables>;

  constructor(db: Database) {
    this.#db = db.$extendTables<OrdersTables>();
  }

  async listAll(filter: OrderFilter, page: { limit: number; after?: OrderCursor }): Promise<{ items: Order[]; next: OrderCursor | null }> {
    const { status, email, sku } = filter;
    const rows = status !== undefined && email === undefined && sku === undefined && filter.customerId === undefined
      ? await this.#byStatus(status, filter, page)
      : await this.#bySearch(filter, page);
    const items = rows.slice(0, page.limit).map(toOrder);
    const last = items.at(-1);
    return { items, next: rows.length > page.limit && last !== undefined ? { createdAt: last.createdAt, id: last.id } : null };
  }

  /** One page (and one more row) of a status, read from orders_finished_newest or orders_deadline. */
  #byStatus(status: OrderStatus, filter: OrderFilter, page: { limit: number; after?: OrderCursor }): Promise<Selectable<OrdersTable>[]> {
    let query = this.#db.selectFrom('orders.orders').selectAll()
      .where('status', '=', status).where('step_deadline', finished.has(status) ? 'is' : 'is not', null);
    if (filter.from !== undefined) query = query.where('created_at', '>=', filter.from);
    if (filter.to !== undefined) query = query.where('created_at', '<', filter.to);
    const after = page.after;
    if (after !== undefined) query = query.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(after.createdAt, after.id)));
    return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(page.limit + 1).execute();
  }

  /**
   * One page (and one more row) walked newest first in one index (the SKU's entries of
   * order_search_skus, else order_search's by email or all), each entry joined to its order by
   * primary key; the other filters are checked on the joined rows.
   */
  async #bySearch(filter: OrderFilter, page: { limit: number; after?: OrderCursor }): Promise<Selectable<OrdersTable>[]> {
    const { walked, source, conditions } = searchWalk(filter);
    if (page.after !== undefined) conditions.push(sql`(${walked}.created_at, ${walked}.order_id) < (${page.after.createdAt}, ${page.after.id})`);
    const result = await sql<Selectable<OrdersTable>>`
      select o.* from ${source} join orders.orders o on o.id = ${walked}.order_id
      ${conditions.length === 0 ? sql`` : sql`where ${sql.join(conditions, sql` and `)}`}
      order by ${walked}.created_at desc, ${walked}.order_id desc limit ${page.limit + 1}`.execute(this.#db);
    return result.rows;
  }

  async countPerMinute(since: Date): Promise<{ placed: MinuteCounts; confirmed: MinuteCounts; cancelled: MinuteCounts }> {
    // One range scan of one index each: order_search_newest, orders_confirmed_at, orders_cancelled_at.
    const [placed, confirmed, cancelled] = await Promise.all([
      sql<MinuteRow>`select date_trunc('minute', created_at) as minute, count(*)::int as count
        from orders.order_search where created_at >= ${since} group by 1`.execute(this.#db),
      sql<MinuteRow>`select date_trunc('minute', confirmed_at) as minute, count(*)::int as count
        from orders.orders where confirmed_at >= ${since} group by 1`.execute(this.#db),
      sql<MinuteRow>`select date_trunc('minute', cancelled_at) as minute, count(*)::int as count
        from orders.orders where cancelled_at >= ${since} group by 1`.execute(this.#db),
    ]);
    return { placed: byMinute(placed.rows), confirmed: byMinute(confirmed.rows), cancelled: byMinute(cancelled.rows) };
  }

  async confirmationP95(since: Date): Promise<{ seconds: number | null; confirmed: number }> {
    const result = await sql<{ seconds: number | null; confirmed: number }>`
      select percentile_cont(0.95) within group (order by extract(epoch from confirmed_at - created_at))::float8 as seconds, count(*)::int as confirmed
      from orders.orders where confirmed_at >= ${since}`.execute(this.#db);
    const row = result.rows[0];
    return { seconds: row?.seconds ?? null, confirmed: row?.confirmed ?? 0 };
  }
}

interface MinuteRow {
  minute: Date;
  count: number;
}

function byMinute(rows: readonly MinuteRow[]): MinuteCounts {
  return new Map(rows.map((row) => [row.minute.getTime(), row.count]));
}
