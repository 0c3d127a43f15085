import type { StockLevel } from '../domain/stock-level.ts';
import type { StockLevelList } from './ports.ts';

/** Lists the stock levels of every SKU in SKU order, optionally only the low ones (fewer than `below` available). */
export class ListStockLevels {
  readonly #stock: StockLevelList;

  constructor(deps: { stock: StockLevelList }) {
    this.#stock = deps.stock;
  }

  execute(query: { below?: number; afterSku?: string; limit: number }): Promise<{ items: StockLevel[]; next: string | null }> {
    return this.#stock.list(query);
  }
}
