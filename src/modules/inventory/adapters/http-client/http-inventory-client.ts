import type { ServiceCaller } from '../../../../platform/http/service-caller.ts';
import type { InventoryClient, SetStockLevelResultV1 } from '../../contract.ts';
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
}
