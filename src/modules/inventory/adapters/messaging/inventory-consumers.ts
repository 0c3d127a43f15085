import type { Transaction } from 'kysely';
import type { z } from 'zod';
import type { Logger } from '../../../../platform/logging/logger.ts';
import { batchStores, type Envelope, type MessageConsumer } from '../../../../platform/messaging/index.ts';
import type { CommitStock } from '../../application/commit-stock.ts';
import type { ReleaseStock } from '../../application/release-stock.ts';
import type { ReserveStock } from '../../application/reserve-stock.ts';
import type { RestockOrder } from '../../application/restock-order.ts';
import { inventoryMessages } from '../../contract.ts';
import type { InventoryStore } from '../../application/ports.ts';
import { BatchInventoryStore } from '../postgres/batch-inventory-store.ts';
import { PgInventoryStore } from '../postgres/pg-inventory-store.ts';
import { commitStockCommand, releaseStockCommand, reserveStockCommand, restockCommand } from './inventory-command-schemas.ts';

export interface InventoryCommandUseCases {
  reserveStock: ReserveStock;
  releaseStock: ReleaseStock;
  commitStock: CommitStock;
  restockOrder: RestockOrder;
}

/**
 * One consumer per command inventory obeys. Each runs its use case in the inbox transaction it is
 * given, so the stock change, the reservation's new state, the events and the inbox record commit
 * together. A command that breaks the contract throws: it is retried, then dead-lettered.
 */
export function inventoryConsumers(useCases: InventoryCommandUseCases, logger: Logger): MessageConsumer[] {
  return [
    consumer('inventory.reserve-stock', inventoryMessages.reserveStock, reserveStockCommand, logger,
      (store, command) => useCases.reserveStock.execute(store, command)),
    consumer('inventory.release-stock', inventoryMessages.releaseStock, releaseStockCommand, logger,
      (store, command) => useCases.releaseStock.execute(store, command)),
    consumer('inventory.commit-stock', inventoryMessages.commitStock, commitStockCommand, logger,
      (store, command) => useCases.commitStock.execute(store, command)),
    consumer('inventory.restock', inventoryMessages.restock, restockCommand, logger,
      (store, command) => useCases.restockOrder.execute(store, command)),
  ];
}

function consumer<Command extends { orderId: string }>(
  name: string,
  message: { type: string; version: number },
  schema: z.ZodType<Command>,
  logger: Logger,
  run: (store: InventoryStore, command: Command) => Promise<string>,
): MessageConsumer {
  // A batch's inventory, locked and read once, its changes written together at the end.
  const batches = batchStores((envelopes, transaction) => {
    const commands = envelopes.map((envelope) => schema.safeParse(envelope.payload)).flatMap((parsed) => (parsed.success ? [parsed.data] : []));
    const skus = commands.flatMap((command) => ('lines' in command && Array.isArray(command.lines) ? command.lines.map((line: { sku: string }) => line.sku) : []));
    return BatchInventoryStore.lock(transaction, commands.map((command) => command.orderId), skus);
  });
  return {
    name,
    types: [message.type],
    async handle(envelope: Envelope, transaction: Transaction<object>) {
      if (envelope.version !== message.version) {
        throw new Error(`${message.type} version ${envelope.version} is not understood; this consumer reads version ${message.version}`);
      }
      const parsed = schema.safeParse(envelope.payload);
      if (!parsed.success) throw new Error(`${message.type} payload is not valid: ${parsed.error.message}`);
      const outcome = await run(batches.of(transaction) ?? new PgInventoryStore(transaction), parsed.data);
      logger.debug({ consumer: name, orderId: parsed.data.orderId, outcome }, 'inventory command handled');
    },
    lockForBatch: batches.lockForBatch,
    finishBatch: batches.finishBatch,
  };
}
