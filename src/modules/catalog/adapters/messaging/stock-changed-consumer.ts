import type { Transaction } from 'kysely';
import { batchStores, type Envelope, type MessageConsumer } from '../../../../platform/messaging/index.ts';
import { inventoryMessages } from '../../../inventory/contract.ts';
import type { RecordReportedStock } from '../../application/record-reported-stock.ts';
import type { ReportedStock } from '../../domain/availability.ts';
import { BatchReportedStockStore, PgReportedStockStore } from '../postgres/pg-reported-stock-store.ts';
import { reportedStockSubscription, stockChanged } from './catalog-message-schemas.ts';

/**
 * `catalog.reported-stock`: keeps what inventory announces of each SKU's available stock, in the
 * catalog's own tables, so product reads show availability in any shape (inventory may be another
 * service with another database). The inbox makes a redelivery a no-op and the stock version makes a
 * late report one; a batch writes the latest report of each SKU in one statement. Once a report has
 * committed, `recorded` hears of it (the read cache). A report that breaks the contract throws: it is
 * retried, then dead-lettered.
 */
export function stockChangedConsumer(deps: {
  recordReportedStock: RecordReportedStock;
  recorded: (reports: readonly ReportedStock[]) => void;
}): MessageConsumer {
  const batches = batchStores((_envelopes, transaction) => Promise.resolve(new BatchReportedStockStore(transaction)));
  return {
    name: reportedStockSubscription.consumer,
    types: reportedStockSubscription.reads.map(({ message }) => message.type),
    async handle(envelope: Envelope, transaction: Transaction<object>) {
      await deps.recordReportedStock.execute(batches.of(transaction) ?? new PgReportedStockStore(transaction), [reportOf(envelope)]);
    },
    lockForBatch: batches.lockForBatch,
    finishBatch: batches.finishBatch,
    afterCommit(envelope: Envelope) {
      deps.recorded([reportOf(envelope)]);
    },
  };
}

function reportOf(envelope: Envelope): ReportedStock {
  const message = inventoryMessages.stockChanged;
  if (envelope.version !== message.version) {
    throw new Error(`${message.type} version ${envelope.version} is not understood; this consumer reads version ${message.version}`);
  }
  const parsed = stockChanged.safeParse(envelope.payload);
  if (!parsed.success) throw new Error(`${message.type} payload is not valid: ${parsed.error.message}`);
  return { sku: parsed.data.sku, available: parsed.data.available, stockVersion: parsed.data.stockVersion };
}
