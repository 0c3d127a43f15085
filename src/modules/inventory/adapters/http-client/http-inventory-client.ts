import type { ServiceCaller } from '../../../../platform/http/service-caller.ts';
import type { InventoryClient, SetStockLevelResultV1, StockLevelBatchV1, StockLevelOutcomeV1 } from '../../contract.ts';
import { inventoryInternalPaths } from '../http/inventory-internal-routes.ts';

/** Inventory's client over HTTP, for modules running in another service than inventory. */
export class HttpInventoryClient implements InventoryClient {
  readonly #inventory: ServiceCaller;

  constructor(inventory: ServiceCaller) {
    this.#inventory = inventory;
  }

  async setStockLevel(sku: string, onHand: number): Promise<SetStockLevelResultV1> {
    // Setting a level to a value is idempotent, so a retry on another instance is safe.
    const answer = await this.#inventory.call('PUT', inventoryInternalPaths.stockLevel(sku), { onHand }, { retryable: true });
    if (answer.status === 200) return answer.body as SetStockLevelResultV1;
    if (answer.status === 422 || answer.status === 400) {
      const error = new Error((answer.body as { detail?: string } | undefined)?.detail ?? 'the stock level is not valid');
      error.name = 'InvalidStockError';
      throw error;
    }
    throw new Error(`inventory answered ${answer.status} to a stock level`);
  }

  async setStockLevels(batch: StockLevelBatchV1): Promise<StockLevelOutcomeV1[]> {
    // Idempotent by its key, so a retry on another instance answers the first application's outcomes.
    const answer = await this.#inventory.call('PUT', inventoryInternalPaths.stockLevelBatch(batch.key), { levels: batch.levels }, { retryable: true });
    if (answer.status === 200) return (answer.body as { items: StockLevelOutcomeV1[] }).items;
    throw new Error(`inventory answered ${answer.status} to a batch of stock levels`);
  }
}
