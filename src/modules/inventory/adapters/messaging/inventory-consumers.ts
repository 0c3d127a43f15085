import type { Transaction } from 'kysely';
import type { z } from 'zod';
import type { Logger } from '../../../../platform/logging/logger.ts';
import { batchStores, type Envelope, type MessageConsumer } from '../../../../platform/messaging/index.ts';
import type { CommitStock } from '../../application/commit-stock.ts';
import type { ReleaseStock } from '../../application/release-stock.ts';
import type { ReserveStock } from '../../application/reserve-stock.ts';
import type { RestockOrder } from '../../application/restock-order.ts';
import type { InventoryStore } from '../../application/ports.ts';
import { BatchInventoryStore } from '../postgres/batch-inventory-store.ts';
import { PgInventoryStore } from '../postgres/pg-inventory-store.ts';
import { commitStockSubscription, releaseStockSubscription, reserveStockSubscription, restockSubscription } from './inventory-message-schemas.ts';

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
    consumer(reserveStockSubscription, logger, (store, command) => useCases.reserveStock.execute(store, command)),
    consumer(releaseStockSubscription, logger, (store, command) => useCases.releaseStock.execute(store, command)),
    consumer(commitStockSubscription, logger, (store, command) => useCases.commitStock.execute(store, command)),
    consumer(restockSubscription, logger, (store, command) => useCases.restockOrder.execute(store, command)),
  ];
}

function consumer<Command extends { orderId: string }>(
  subscription: { consumer: string; reads: readonly [{ message: { type: string; version: number }; payload: z.ZodType<Command> }] },
  logger: Logger,
  run: (store: InventoryStore, command: Command) => Promise<string>,
): MessageConsumer {
  const name = subscription.consumer;
  const [{ message, payload: schema }] = subscription.reads;
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
