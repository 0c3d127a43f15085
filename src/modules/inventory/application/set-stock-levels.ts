import type { StockLevelBatchV1, StockLevelOutcomeV1 } from '../contract.ts';
import { InvalidStockError } from '../domain/inventory.errors.ts';
import { normaliseSku } from '../domain/sku.ts';
import { validOnHand } from '../domain/stock-level.ts';
import type { StockBatchRepository } from './ports.ts';

/**
 * Sets a batch of SKUs' on-hand stock at once, for bulk imports: each level is checked first (a
 * malformed SKU or count is rejected alone), then the rest are set in one statement, never below
 * what orders reserved (such a level is refused, changing nothing). Repeating a batch (its key)
 * changes nothing and answers what its first application did. Like an import's single levels, they
 * are audited as the import that sets them, not one by one.
 */
export class SetStockLevels {
  readonly #stock: StockBatchRepository;

  constructor(deps: { stock: StockBatchRepository }) {
    this.#stock = deps.stock;
  }

  async execute(batch: StockLevelBatchV1): Promise<StockLevelOutcomeV1[]> {
    const checked = new Map<number, { sku: string; onHand: number }>();
    const rejected = new Map<number, string>();
    const firstOf = new Map<string, number>();
    batch.levels.forEach((level, index) => {
      try {
        const sku = normaliseSku(level.sku);
        const onHand = validOnHand(level.onHand);
        const first = firstOf.get(sku);
        if (first === undefined) {
          firstOf.set(sku, index);
          checked.set(index, { sku, onHand });
        } else {
          rejected.set(index, `sku ${sku} is repeated in the batch (first at position ${first + 1})`);
        }
      } catch (error) {
        if (!(error instanceof InvalidStockError)) throw error;
        rejected.set(index, error.message);
      }
    });
    const outcomes = await this.#stock.setBatch(batch.key, [...checked.values()], (results) => batch.levels.map((_level, index): StockLevelOutcomeV1 => {
      const reason = rejected.get(index);
      const result = results.get(checked.get(index)?.sku ?? '');
      if (reason !== undefined || result === undefined) return { outcome: 'rejected', reason: reason ?? 'not set' };
      return result;
    }));
    if (outcomes.length !== batch.levels.length) throw new BatchKeyReusedError(batch.key);
    return outcomes;
  }
}

/** A batch's key was applied before to a batch of another length: the caller named two batches alike. */
export class BatchKeyReusedError extends Error {
  constructor(key: string) {
    super(`batch ${key} was applied before with another number of levels`);
    this.name = 'BatchKeyReusedError';
  }
}
