import { sql, type Kysely } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { recordAdminAct } from '../../../../platform/audit/index.ts';
import { appendToOutbox } from '../../../../platform/messaging/index.ts';
import type { StockAdminAct, StockRepository } from '../../application/ports.ts';
import type { StockLevel } from '../../domain/stock-level.ts';
import type { InventoryTables, StockItemsTable } from './inventory-tables.ts';
import { changedStockColumns, stockChangedEnvelopes, type ChangedStockRow } from './stock-announcements.ts';

/** Stock levels in PostgreSQL, as admins and imports set and read them; every level set is announced. */
export class PgStockRepository implements StockRepository {
  readonly #db: Kysely<InventoryTables>;

  constructor(db: Database) {
    this.#db = db.$extendTables<InventoryTables>();
  }

  async find(sku: string): Promise<StockLevel | undefined> {
    const row = await this.#db.selectFrom('inventory.stock_items').select(['sku', 'on_hand', 'reserved']).where('sku', '=', sku).executeTakeFirst();
    return row === undefined ? undefined : toStockLevel(row);
  }

  async setOnHand(sku: string, onHand: number, act?: StockAdminAct): Promise<{ saved: StockLevel } | { refused: StockLevel }> {
    const saved = await this.#db.transaction().execute(async (transaction) => {
      // An audited change reads the level it replaces under the row's lock, so before and after are of one change.
      const before = act === undefined ? undefined : await transaction.selectFrom('inventory.stock_items')
        .select(['on_hand', 'reserved']).where('sku', '=', sku).forUpdate().executeTakeFirst();
      // One statement: the row lock taken by ON CONFLICT makes the "not below reserved" check and the
      // write atomic, whatever reservations run concurrently.
      const written = await sql<Pick<StockItemsTable, 'sku' | 'on_hand' | 'reserved'> & ChangedStockRow>`
        insert into inventory.stock_items as item (sku, on_hand, reserved) values (${sku}, ${onHand}, 0)
        on conflict (sku) do update set on_hand = excluded.on_hand, version = item.version + 1, updated_at = now()
          where item.reserved <= excluded.on_hand
        returning item.on_hand, item.reserved, ${changedStockColumns}`.execute(transaction);
      await appendToOutbox(transaction, stockChangedEnvelopes(written.rows));
      const row = written.rows[0];
      if (act !== undefined && row !== undefined) {
        await recordAdminAct(transaction, 'inventory', {
          ...act, before: before === undefined ? null : { onHand: before.on_hand, reserved: before.reserved }, after: { onHand: row.on_hand, reserved: row.reserved },
        });
      }
      return row;
    });
    if (saved !== undefined) return { saved: toStockLevel(saved) };
    const current = await this.find(sku);
    // Only a row reserved above onHand refuses; rows are never deleted, so it is still there.
    if (current === undefined) throw new Error(`stock item ${sku} refused an update and then vanished`);
    return { refused: current };
  }
}

function toStockLevel(row: Pick<StockItemsTable, 'sku' | 'on_hand' | 'reserved'>): StockLevel {
  return { sku: row.sku, onHand: row.on_hand, reserved: row.reserved };
}
