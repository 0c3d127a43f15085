import { z } from 'zod';
import { paymentsMessages } from '../../contract.ts';

// The commands payments obeys with the schemas their payloads are checked against: read by the
// consumer and by the AsyncAPI document (src/apps/asyncapi.ts). Capture, void and refund need only
// the order; other fields (a void's or refund's `reason`) are tolerated, not checked.

export const authorizePaymentPayload = z.object({
  orderId: z.string(),
  amount: z.object({ amount: z.number(), currency: z.string() }),
  token: z.string(),
});

export const orderPayload = z.object({ orderId: z.string() });

/** What `payments.commands` reads. */
export const paymentCommandsSubscription = {
  consumer: 'payments.commands',
  reads: [
    { message: paymentsMessages.authorizePayment, payload: authorizePaymentPayload },
    { message: paymentsMessages.capturePayment, payload: orderPayload },
    { message: paymentsMessages.voidPayment, payload: orderPayload },
    { message: paymentsMessages.refundPayment, payload: orderPayload },
  ],
} as const;

/** Payments' consumer. Its events are read by the orders saga, whose schemas document them. */
export const paymentsMessageSchemas = {
  consumers: [paymentCommandsSubscription],
  sends: [],
};
