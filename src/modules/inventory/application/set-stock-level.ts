import { OnHandBelowReservedError } from '../domain/inventory.errors.ts';
import { normaliseSku } from '../domain/sku.ts';
import { validOnHand, type StockLevel } from '../domain/stock-level.ts';
import type { StockRepository } from './ports.ts';

/**
 * Sets a SKU's on-hand stock (creating the item when new); never below what orders have reserved.
 * An admin's change (`byAdmin`) is an administrative act, kept in the audit trail; an import's
 * changes are part of the import, audited as one act where it was started.
 */
export class SetStockLevel {
  readonly #stock: StockRepository;

  constructor(deps: { stock: StockRepository }) {
    this.#stock = deps.stock;
  }

  async execute(input: { sku: string; onHand: number; byAdmin?: boolean }): Promise<StockLevel> {
    const sku = normaliseSku(input.sku);
    const onHand = validOnHand(input.onHand);
    const result = await this.#stock.setOnHand(sku, onHand, input.byAdmin === true ? { action: 'inventory.stock-set', targetId: sku } : undefined);
    if ('refused' in result) throw new OnHandBelowReservedError(sku, onHand, result.refused.reserved);
    return result.saved;
  }
}
