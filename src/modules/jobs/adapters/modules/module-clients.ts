import type { CatalogImportClient } from '../../../catalog/contract.ts';
import type { InventoryClient } from '../../../inventory/contract.ts';
import type { ProductCatalog, StockLevels } from '../../application/ports.ts';

/** The catalogue, through the catalog module's published client: one batch upsert per chunk. */
export function catalogProducts(client: CatalogImportClient): ProductCatalog {
  return {
    async upsertAll(key, rows) {
      const outcomes = await client.upsertProducts({
        key, products: rows.map((row) => ({ sku: row.sku, name: row.name, description: row.description, price: { ...row.price } })),
      });
      return outcomes.map((outcome) => (outcome.outcome === 'rejected' ? { rejected: outcome.reason } : outcome.outcome));
    },
  };
}

/** Stock levels, through the inventory module's published client: one batch per chunk. */
export function inventoryStockLevels(client: InventoryClient): StockLevels {
  return {
    async setAll(key, levels) {
      const outcomes = await client.setStockLevels({ key, levels: levels.map((level) => ({ ...level })) });
      return outcomes.map((outcome, position) => {
        if (outcome.outcome === 'set') return 'set';
        if (outcome.outcome === 'rejected') return { rejected: outcome.reason };
        return { rejected: `stock cannot be ${levels[position]?.onHand ?? '?'}: orders have ${outcome.reserved} units reserved` };
      });
    },
  };
}
