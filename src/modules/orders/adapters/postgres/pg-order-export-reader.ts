import { sql, type Kysely } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import type { ExportPosition, OrderExportReader, OrderFilter } from '../../application/ports.ts';
import type { ExportedOrderV1 } from '../../contract.ts';
import type { OrderLine } from '../../domain/order.ts';
import { searchWalk } from './order-search-walk.ts';
import type { OrdersTables } from './order-rows.ts';

interface ExportedRow {
  id: string;
  status: string;
  customer_id: string;
  customer_email: string;
  lines: OrderLine[];
  total_amount: string | number;
  currency: string;
  refunded_amount: string | number | null;
  cancellation_reason: string | null;
  created_at: Date;
  updated_at: Date;
  placed_at: string;
}

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

  async page(filter: OrderFilter, placedBefore: Date, page: { limit: number; after?: ExportPosition }): Promise<{ items: ExportedOrderV1[]; next: ExportPosition | null }> {
    const { walked, source, conditions } = searchWalk(filter, placedBefore);
    if (page.after !== undefined) {
      conditions.push(sql`(${walked}.created_at, ${walked}.order_id) < (${page.after.placedAt}::timestamptz, ${page.after.orderId})`);
    }
    // Only what an export writes: the saga's columns (its timeline above all) would cost their parsing.
    const result = await sql<ExportedRow>`
      select o.id, o.status, o.customer_id, o.customer_email, o.lines, o.total_amount, o.currency, o.refunded_amount, o.cancellation_reason,
        o.created_at, o.updated_at, ${walked}.created_at::text as placed_at
      from ${source} join orders.orders o on o.id = ${walked}.order_id
      where ${sql.join(conditions, sql` and `)}
      order by ${walked}.created_at desc, ${walked}.order_id desc limit ${page.limit + 1}`.execute(this.#db);
    const rows = result.rows.slice(0, page.limit);
    const last = rows.at(-1);
    return {
      items: rows.map(toExportedOrder),
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

function toExportedOrder(row: ExportedRow): ExportedOrderV1 {
  const currency = row.currency;
  return {
    id: row.id, status: row.status, customerId: row.customer_id, customerEmail: row.customer_email,
    lines: row.lines.map((line) => ({ sku: line.sku, quantity: line.quantity, lineTotal: { amount: line.lineTotal.amount, currency: line.lineTotal.currency } })),
    total: { amount: Number(row.total_amount), currency },
    refunded: row.refunded_amount === null ? null : { amount: Number(row.refunded_amount), currency },
    cancellationReason: row.cancellation_reason,
    createdAt: row.created_at.toISOString(), updatedAt: row.updated_at.toISOString(),
  };
}
