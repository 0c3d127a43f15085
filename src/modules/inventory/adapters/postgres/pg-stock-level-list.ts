import { sql, type Kysely } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import type { StockLevelList } from '../../application/ports.ts';
import type { StockLevel } from '../../domain/stock-level.ts';
import type { InventoryTables } from './inventory-tables.ts';

/**
 * Stock levels in SKU order, by the primary key. The low-stock filter is applied while reading that
 * order: there is one row per SKU, so the scan is bounded by the catalogue, and an index on the
 * available units would cost every reservation (which changes them) its in-place (HOT) row update.
 */
export class PgStockLevelList implements StockLevelList {
  readonly #db: Kysely<InventoryTables>;

  constructor(db: Database) {
    this.#db = db.$extendTables<InventoryTables>();
  }

  async list(query: { below?: number; afterSku?: string; limit: number }): Promise<{ items: StockLevel[]; next: string | null }> {
    let select = this.#db.selectFrom('inventory.stock_items').select(['sku', 'on_hand', 'reserved']);
    const { below, afterSku } = query;
    if (afterSku !== undefined) select = select.where('sku', '>', afterSku);
    if (below !== undefined) select = select.where(sql<boolean>`on_hand - reserved < ${below}`);
    const rows = await select.orderBy('sku').limit(query.limit + 1).execute();
    const items = rows.slice(0, query.limit).map((row) => ({ sku: row.sku, onHand: row.on_hand, reserved: row.reserved }));
    const last = items.at(-1);
    return { items, next: rows.length > query.limit && last !== undefined ? last.sku : null };
  }
}
