import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import type { ExportPosition, OrderExportReader, OrderFilter } from '../../application/ports.ts';
import type { Order } from '../../domain/order.ts';
import { searchWalk } from './order-search-walk.ts';
import { toOrder, type OrdersTable, type OrdersTables } from './order-rows.ts';

/**
 * An export's reads. They walk the admin list's indexes (order_search, or order_search_skus by SKU,
 * migration 004) newest first, bounded by the export's instant so that the set never grows while it
 * is written, and each page ends at a position kept in PostgreSQL's full precision: a page boundary
 * between two orders placed in the same millisecond neither skips nor repeats one.
 */
export class PgOrderExportReader implements OrderExportReader {
  readonly #db: Kysely<OrdersTables>;

  constructor(db: Database) {
    this.#db = db.$extendTables<OrdersTables>();
  }

  async page(filter: OrderFilter, placedBefore: Date, page: { limit: number; after?: ExportPosition }): Promise<{ items: Order[]; next: ExportPosition | null }> {
    const { walked, source, conditions } = searchWalk(filter, placedBefore);
    if (page.after !== undefined) {
      conditions.push(sql`(${walked}.created_at, ${walked}.order_id) < (${page.after.placedAt}::timestamptz, ${page.after.orderId})`);
    }
    const result = await sql<Selectable<OrdersTable> & { placed_at: string }>`
      select o.*, ${walked}.created_at::text as placed_at from ${source} join orders.orders o on o.id = ${walked}.order_id
      where ${sql.join(conditions, sql` and `)}
      order by ${walked}.created_at desc, ${walked}.order_id desc limit ${page.limit + 1}`.execute(this.#db);
    const rows = result.rows.slice(0, page.limit);
    const last = rows.at(-1);
    return {
      items: rows.map(toOrder),
      next: result.rows.length > page.limit && last !== undefined ? { placedAt: last.placed_at, orderId: last.id } : null,
    };
  }

  async count(filter: OrderFilter, placedBefore: Date): Promise<number> {
    const { walked, source, conditions } = searchWalk(filter, placedBefore);
    const result = await sql<{ count: string }>`
      select count(*) as count from ${source} join orders.orders o on o.id = ${walked}.order_id
      where ${sql.join(conditions, sql` and `)}`.execute(this.#db);
    return Number(result.rows[0]?.count ?? 0);
  }
}
