import { z } from 'zod';
import { batchStores, type MessageConsumer } from '../../../../platform/messaging/index.ts';
import { traced } from '../../../../platform/observability/tracing.ts';
import { ordersEvents } from '../../../orders/contract.ts';
import { RecordInvoice } from '../../application/record-invoice.ts';
import { BatchInvoiceRecords } from '../postgres/batch-invoice-records.ts';
import { PgInvoiceRepository } from '../postgres/pg-invoice-repository.ts';
import { invoiceOnConfirmationSubscription, orderConfirmed } from './jobs-message-schemas.ts';

const orderIdOf = z.object({ orderId: z.string().min(1) });

/**
 * Records the invoice of each confirmed order, in the message's inbox transaction, to be drawn when
 * first downloaded (decision 0014); an order announced twice keeps its first record. A payload that
 * does not parse throws, so the message is retried and ends in the dead letters rather than being
 * dropped in silence.
 */
export function orderConfirmedConsumer(deps: { invoiceSeller: string }): MessageConsumer {
  // A batch's invoices, checked in memory, inserted together at the end.
  const batches = batchStores((envelopes, transaction) => BatchInvoiceRecords.read(transaction, envelopes.flatMap((envelope) => {
    const parsed = orderIdOf.safeParse(envelope.payload);
    return parsed.success ? [parsed.data.orderId] : []; // malformed: its own handle says so
  })));
  return {
    name: invoiceOnConfirmationSubscription.consumer,
    types: invoiceOnConfirmationSubscription.reads.map(({ message }) => message.type),
    async handle(envelope, transaction) {
      if (envelope.version !== ordersEvents.confirmed.version) throw new Error(`jobs cannot handle ${envelope.type} v${envelope.version}`);
      const order = orderConfirmed.parse(envelope.payload);
      const recordInvoice = new RecordInvoice({ invoices: batches.of(transaction) ?? new PgInvoiceRepository(transaction), seller: deps.invoiceSeller });
      await traced('jobs.record-invoice', () => recordInvoice.execute(order));
    },
    lockForBatch: batches.lockForBatch,
    finishBatch: batches.finishBatch,
  };
}
