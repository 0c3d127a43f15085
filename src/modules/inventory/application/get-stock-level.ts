import { StockItemNotFoundError } from '../domain/inventory.errors.ts';
import { normaliseSku } from '../domain/sku.ts';
import type { StockLevel } from '../domain/stock-level.ts';
import type { StockRepository } from './ports.ts';

/** Reads one SKU's stock. */
export class GetStockLevel {
  readonly #stock: StockRepository;

  constructor(deps: { stock: StockRepository }) {
    this.#stock = deps.stock;
  }

  async execute(rawSku: string): Promise<StockLevel> {
    const sku = normaliseSku(rawSku);
    const level = await this.#stock.find(sku);
    if (level === undefined) throw new StockItemNotFoundError(sku);
    return level;
  }
}
