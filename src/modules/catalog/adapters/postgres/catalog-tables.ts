/** The `catalog.products` table as stored. */
export interface ProductsTable {
  id: string;
  sku: string;
  name: string;
  description: string;
  price_amount: number;
  price_currency: string;
  created_at: Date;
  updated_at: Date;
  version: number;
}

/** The `catalog.reported_stock` table as stored: inventory's last report of each SKU's stock. */
export interface ReportedStockTable {
  sku: string;
  available: number;
  stock_version: number;
  reported_at: Date;
}

/** The `catalog.applied_batches` table as stored: batch upserts by key, with their outcomes. */
export interface AppliedBatchesTable {
  key: string;
  outcomes: unknown;
  applied_at: Date;
}

// A type alias, not an interface: kysely needs the index signature an alias has.
// eslint-disable-next-line @typescript-eslint/consistent-type-definitions
export type CatalogTables = {
  'catalog.products': ProductsTable;
  'catalog.reported_stock': ReportedStockTable;
  'catalog.applied_batches': AppliedBatchesTable;
};
