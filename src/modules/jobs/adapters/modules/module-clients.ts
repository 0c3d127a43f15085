import type { CatalogImportClient } from '../../../catalog/contract.ts';
import type { InventoryClient } from '../../../inventory/contract.ts';
import type { OrdersExportClient } from '../../../orders/contract.ts';
import type { OrderSource, ProductCatalog, StockLevels } from '../../application/ports.ts';

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

/** Orders to export, through the orders module's published client: one page per part. */
export function ordersToExport(client: OrdersExportClient): OrderSource {
  return {
    async page(query) {
      const page = await client.exportPage({
        filter: { ...query.filter }, placedBefore: query.placedBefore, limit: query.limit, count: query.count,
        ...(query.after === null ? {} : { after: { ...query.after } }),
      });
      return {
        orders: page.items.map((order) => ({ ...order, createdAt: new Date(order.createdAt), updatedAt: new Date(order.updatedAt) })),
        next: page.next,
        ...(page.total === undefined ? {} : { total: page.total }),
      };
    },
  };
}
