import { z } from 'zod';
import { inventoryMessages } from '../../../inventory/contract.ts';
import { paymentsMessages } from '../../../payments/contract.ts';
import { ordersEvents, type OrderPlacedV1 } from '../../contract.ts';
import {
  paymentAuthorized, paymentCaptured, paymentCaptureFailed, paymentDeclined, paymentRefunded, paymentVoided,
  reservationFailed, restocked, stockCommitFailed, stockCommitted, stockReleased, stockReserved,
} from './saga-event-schemas.ts';

// The messages of orders with their payload schemas: read by the saga consumer and by the AsyncAPI
// document (src/apps/asyncapi.ts).

const money = z.object({ amount: z.int(), currency: z.string().length(3) });

/**
 * `orders.placed` v1 as orders writes it. No module consumes it (the saga starts in the transaction
 * that places the order), so the schema is the publisher's, typed against the contract.
 */
export const orderPlaced: z.ZodType<OrderPlacedV1> = z.object({
  orderId: z.string().min(1),
  customer: z.object({ id: z.string().min(1), email: z.string().min(3) }),
  lines: z.array(z.object({ sku: z.string(), name: z.string(), quantity: z.int(), unitPrice: money, lineTotal: money })),
  total: money,
  placedAt: z.string(),
});

/** What the saga follows: every inventory and payments event about an order. */
export const sagaSubscription = {
  consumer: 'orders.saga',
  reads: [
    { message: inventoryMessages.reserved, payload: stockReserved },
    { message: inventoryMessages.reservationFailed, payload: reservationFailed },
    { message: inventoryMessages.released, payload: stockReleased },
    { message: inventoryMessages.committed, payload: stockCommitted },
    { message: inventoryMessages.commitFailed, payload: stockCommitFailed },
    { message: inventoryMessages.restocked, payload: restocked },
    { message: paymentsMessages.authorized, payload: paymentAuthorized },
    { message: paymentsMessages.declined, payload: paymentDeclined },
    { message: paymentsMessages.captured, payload: paymentCaptured },
    { message: paymentsMessages.captureFailed, payload: paymentCaptureFailed },
    { message: paymentsMessages.voided, payload: paymentVoided },
    { message: paymentsMessages.refunded, payload: paymentRefunded },
  ],
} as const;

/**
 * The saga's consumer; what orders sends besides its own events: the commands of inventory and
 * payments (saga-messages.ts), whose payloads their consumers' schemas document.
 */
export const ordersMessageSchemas = {
  consumers: [sagaSubscription],
  sends: [
    { message: ordersEvents.placed, payload: orderPlaced },
    { message: inventoryMessages.reserveStock }, { message: inventoryMessages.releaseStock },
    { message: inventoryMessages.commitStock }, { message: inventoryMessages.restock },
    { message: paymentsMessages.authorizePayment }, { message: paymentsMessages.capturePayment },
    { message: paymentsMessages.voidPayment }, { message: paymentsMessages.refundPayment },
  ],
};
