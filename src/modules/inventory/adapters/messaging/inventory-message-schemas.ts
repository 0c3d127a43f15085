import { inventoryMessages } from '../../contract.ts';
import { commitStockCommand, releaseStockCommand, reserveStockCommand, restockCommand } from './inventory-command-schemas.ts';

// Inventory's consumers, one per command it obeys, each with the schema its payload is checked
// against: read by the consumers and by the AsyncAPI document (src/apps/asyncapi.ts).

export const reserveStockSubscription = {
  consumer: 'inventory.reserve-stock',
  reads: [{ message: inventoryMessages.reserveStock, payload: reserveStockCommand }],
} as const;

export const releaseStockSubscription = {
  consumer: 'inventory.release-stock',
  reads: [{ message: inventoryMessages.releaseStock, payload: releaseStockCommand }],
} as const;

export const commitStockSubscription = {
  consumer: 'inventory.commit-stock',
  reads: [{ message: inventoryMessages.commitStock, payload: commitStockCommand }],
} as const;

export const restockSubscription = {
  consumer: 'inventory.restock',
  reads: [{ message: inventoryMessages.restock, payload: restockCommand }],
} as const;

/**
 * Inventory's consumers. What it sends (its events) is read by orders and the catalog, whose
 * schemas document it, so it lists nothing of its own.
 */
export const inventoryMessageSchemas = {
  consumers: [reserveStockSubscription, releaseStockSubscription, commitStockSubscription, restockSubscription],
  sends: [],
};
