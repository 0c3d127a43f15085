/** The `inventory.stock_items` table as stored. */
export interface StockItemsTable {
  sku: string;
  on_hand: number;
  reserved: number;
  updated_at: Date;
  /** Incremented by every change of the row; announced with it in `inventory.stock-changed`. */
  version: number;
}

/** The `inventory.reservations` table as stored. */
export interface ReservationsTable {
  order_id: string;
  status: string;
  expires_at: Date;
  failure_reason: string | null;
  /** JSON array of SKUs, set when the reservation failed. */
  failed_skus: string[] | null;
  created_at: Date;
  updated_at: Date;
}

/** The `inventory.reservation_lines` table as stored. */
export interface ReservationLinesTable {
  order_id: string;
  sku: string;
  quantity: number;
}

/** The `inventory.applied_batches` table as stored: batches of stock levels by key, with their outcomes. */
export interface AppliedBatchesTable {
  key: string;
  outcomes: unknown;
  applied_at: Date;
}

// A type alias, not an interface: kysely needs the index signature an alias has.
// eslint-disable-next-line @typescript-eslint/consistent-type-definitions
export type InventoryTables = {
  'inventory.stock_items': StockItemsTable;
  'inventory.reservations': ReservationsTable;
  'inventory.reservation_lines': ReservationLinesTable;
  'inventory.applied_batches': AppliedBatchesTable;
};
