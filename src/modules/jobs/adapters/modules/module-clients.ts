import type { CatalogClient, CatalogImportClient } from '../../../catalog/contract.ts';
import type { InventoryClient } from '../../../inventory/contract.ts';
import type { ProductCatalog, StockLevels } from '../../application/ports.ts';

/** Errors the catalog and inventory clients name as broken rules of theirs: a row's fault, not a reason to retry. */
const ruleErrorNames = new Set(['InvalidProductError', 'InvalidStockError']);

function ruleBroken(error: unknown): string | undefined {
  return error instanceof Error && ruleErrorNames.has(error.name) ? error.message : undefined;
}

const lookupSize = 500;

/** The catalogue, through the catalog module's published client. */
export function catalogProducts(client: CatalogClient & CatalogImportClient): ProductCatalog {
  return {
    async existing(skus) {
      const found = new Set<string>();
      // The catalog answers at most 1,000 SKUs a lookup; a batch may be larger.
      for (let start = 0; start < skus.length; start += lookupSize) {
        for (const product of await client.findProductsBySku(skus.slice(start, start + lookupSize))) found.add(product.sku);
      }
      return found;
    },
    async upsert(row) {
      try {
        const { created } = await client.upsertProduct({ sku: row.sku, name: row.name, description: row.description, price: { ...row.price } });
        return created ? 'created' : 'updated';
      } catch (error) {
        const reason = ruleBroken(error);
        if (reason === undefined) throw error;
        return { rejected: reason };
      }
    },
  };
}

/** Stock levels, through the inventory module's published client. */
export function inventoryStockLevels(client: InventoryClient): StockLevels {
  return {
    async set(sku, onHand) {
      try {
        const result = await client.setStockLevel(sku, onHand);
        if (result.outcome === 'set') return 'set';
        return { rejected: `stock cannot be ${onHand}: orders have ${result.reserved} units reserved` };
      } catch (error) {
        const reason = ruleBroken(error);
        if (reason === undefined) throw error;
        return { rejected: reason };
      }
    },
  };
}
