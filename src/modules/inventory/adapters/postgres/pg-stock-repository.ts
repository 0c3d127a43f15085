import { sql, type Kysely } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { inSharedTransaction } from '../../../../platform/database/shared-transaction.ts';
import { recordAdminAct } from '../../../../platform/audit/index.ts';
import { appendToOutbox, createEnvelope } from '../../../../platform/messaging/index.ts';
import { inventoryMessages } from '../../contract.ts';
import type { StockAdminAct, StockBatchRepository, StockBatchResult, StockRepository } from '../../application/ports.ts';
import type { StockLevel } from '../../domain/stock-level.ts';
import type { InventoryTables, StockItemsTable } from './inventory-tables.ts';
import { changedStockColumns, stockChangedEnvelopes, type ChangedStockRow } from './stock-announcements.ts';

/** Stock levels in PostgreSQL, as admins and imports set and read them; every level set is announced. */
export class PgStockRepository implements StockRepository, StockBatchRepository {
  readonly #db: Kysely<InventoryTables>;
  /** The handle as given, by which a caller's shared transaction on the same database is recognised. */
  readonly #given: Database;

  constructor(db: Database) {
    this.#db = db.$extendTables<InventoryTables>();
    this.#given = db;
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

  async setBatch<Outcome>(key: string, levels: readonly { sku: string; onHand: number }[], settle: (results: ReadonlyMap<string, StockBatchResult>) => Outcome[]): Promise<Outcome[]> {
    return inSharedTransaction(this.#given, async (transaction) => {
      // The key is claimed first: a concurrent repeat waits here for this one to commit, then answers its outcomes.
      const claimed = await sql`insert into inventory.applied_batches (key) values (${key}) on conflict (key) do nothing returning key`.execute(transaction);
      if (claimed.rows.length === 0) {
        const recorded = await sql<{ outcomes: Outcome[] | null }>`select outcomes from inventory.applied_batches where key = ${key}`.execute(transaction);
        return recorded.rows[0]?.outcomes ?? [];
      }
      const results = new Map<string, StockBatchResult>();
      if (levels.length > 0) {
        // Rows are written, so locked, in SKU order, the order every stock writer uses. A level that is
        // already the stored one is not written (nor announced); one below what is reserved is refused.
        // What changed is announced in one `inventory.stock-levels-changed` for the batch.
        const sorted = [...levels].sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
        const written = await sql<ChangedStockRow>`
          insert into inventory.stock_items as item (sku, on_hand, reserved)
          select sku, on_hand, 0 from unnest(${sorted.map((level) => level.sku)}::text[], ${sorted.map((level) => level.onHand)}::bigint[]) as level (sku, on_hand)
          on conflict (sku) do update set on_hand = excluded.on_hand, version = item.version + 1, updated_at = now()
            where item.reserved <= excluded.on_hand and item.on_hand <> excluded.on_hand
          returning ${changedStockColumns}`.execute(transaction);
        if (written.rows.length > 0) {
          await appendToOutbox(transaction, [createEnvelope({
            ...inventoryMessages.stockLevelsChanged, key: `batch:${key}`,
            payload: { levels: written.rows.map((row) => ({ sku: row.sku, available: row.available, stockVersion: row.version })) },
          })]);
        }
        for (const row of written.rows) results.set(row.sku, { outcome: 'set' });
        const unwritten = sorted.filter((level) => !results.has(level.sku));
        if (unwritten.length > 0) {
          const stored = await sql<{ sku: string; reserved: number }>`
            select sku, reserved from inventory.stock_items where sku = any(${unwritten.map((level) => level.sku)}::text[])`.execute(transaction);
          const reservedOf = new Map(stored.rows.map((row) => [row.sku, row.reserved]));
          for (const level of unwritten) {
            const reserved = reservedOf.get(level.sku) ?? 0;
            results.set(level.sku, reserved > level.onHand ? { outcome: 'refused', reserved } : { outcome: 'set' });
          }
        }
      }
      const outcomes = settle(results);
      await sql`update inventory.applied_batches set outcomes = ${JSON.stringify(outcomes)}::jsonb where key = ${key}`.execute(transaction);
      return outcomes;
    });
  }
}

function toStockLevel(row: Pick<StockItemsTable, 'sku' | 'on_hand' | 'reserved'>): StockLevel {
  return { sku: row.sku, onHand: row.on_hand, reserved: row.reserved };
}
