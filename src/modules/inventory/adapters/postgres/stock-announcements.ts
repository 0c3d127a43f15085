import { sql } from 'kysely';
import { createEnvelope, type Envelope } from '../../../../platform/messaging/index.ts';
import { inventoryMessages, type StockChangedV1 } from '../../contract.ts';

/** A stock row as a changing statement returns it, for its announcement. */
export interface ChangedStockRow {
  sku: string;
  available: number;
  version: number;
}

/** What a statement changing `inventory.stock_items as item` returns so its change can be announced. */
export const changedStockColumns = sql`item.sku, item.on_hand - item.reserved as available, item.version`;

/**
 * `inventory.stock-changed` for each row, the last one of each SKU only (it carries the highest
 * version), keyed by SKU so one SKU's announcements share a partition.
 */
export function stockChangedEnvelopes(rows: Iterable<ChangedStockRow>): Envelope<StockChangedV1>[] {
  const latest = new Map<string, ChangedStockRow>();
  for (const row of rows) {
    const known = latest.get(row.sku);
    if (known === undefined || known.version < row.version) latest.set(row.sku, row);
  }
  return [...latest.values()].map((row) => createEnvelope({
    ...inventoryMessages.stockChanged, key: row.sku, payload: { sku: row.sku, available: row.available, stockVersion: row.version },
  }));
}
