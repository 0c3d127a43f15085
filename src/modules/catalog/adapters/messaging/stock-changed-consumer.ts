import type { Transaction } from 'kysely';
import { batchStores, type Envelope, type MessageConsumer } from '../../../../platform/messaging/index.ts';
import { inventoryMessages } from '../../../inventory/contract.ts';
import type { RecordReportedStock } from '../../application/record-reported-stock.ts';
import type { ReportedStock } from '../../domain/availability.ts';
import { BatchReportedStockStore, PgReportedStockStore } from '../postgres/pg-reported-stock-store.ts';
import { reportedStockSubscription, stockChanged, stockLevelsChanged } from './catalog-message-schemas.ts';

/**
 * `catalog.reported-stock`: keeps what inventory announces of each SKU's available stock (one SKU
 * per `inventory.stock-changed`, a batch's per `inventory.stock-levels-changed`), in the
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
      await deps.recordReportedStock.execute(batches.of(transaction) ?? new PgReportedStockStore(transaction), reportsOf(envelope));
    },
    lockForBatch: batches.lockForBatch,
    finishBatch: batches.finishBatch,
    afterCommit(envelope: Envelope) {
      deps.recorded(reportsOf(envelope));
    },
  };
}

/** Reports already read from an envelope: handling and `afterCommit` both need them, and a batch's hold thousands. */
const readReports = new WeakMap<Envelope, ReportedStock[]>();

/** The reports an announcement carries: one SKU's (`inventory.stock-changed`), or a batch's (`inventory.stock-levels-changed`). */
function reportsOf(envelope: Envelope): ReportedStock[] {
  const known = readReports.get(envelope);
  if (known !== undefined) return known;
  const reports = readReportsOf(envelope);
  readReports.set(envelope, reports);
  return reports;
}

function readReportsOf(envelope: Envelope): ReportedStock[] {
  const batch = envelope.type === inventoryMessages.stockLevelsChanged.type;
  const message = batch ? inventoryMessages.stockLevelsChanged : inventoryMessages.stockChanged;
  if (envelope.version !== message.version) {
    throw new Error(`${message.type} version ${envelope.version} is not understood; this consumer reads version ${message.version}`);
  }
  const parsed = (batch ? stockLevelsChanged : stockChanged.transform((level) => ({ levels: [level] }))).safeParse(envelope.payload);
  if (!parsed.success) throw new Error(`${message.type} payload is not valid: ${parsed.error.message}`);
  return parsed.data.levels.map((level) => ({ sku: level.sku, available: level.available, stockVersion: level.stockVersion }));
}
