import { z } from 'zod';
import type {
  ReservationFailedV1, RestockedV1, StockCommitFailedV1, StockCommittedV1, StockReleasedV1, StockReservedV1,
} from '../../../inventory/contract.ts';
import type {
  PaymentAuthorizedV1, PaymentCapturedV1, PaymentCaptureFailedV1, PaymentDeclinedV1, PaymentRefundedV1, PaymentVoidedV1,
} from '../../../payments/contract.ts';

// The shapes of the inventory and payments events the saga follows, checked at the edge like HTTP
// bodies. Typed against the publishers' contracts, so a change there that these schemas miss fails to
// compile. Unknown fields are tolerated so a publisher can add optional ones without breaking the saga.

const orderId = z.string().min(1).max(200);
const money = z.object({ amount: z.int(), currency: z.string().min(1) });

export const stockReserved: z.ZodType<StockReservedV1> = z.object({ orderId, expiresAt: z.string() });

export const reservationFailed: z.ZodType<ReservationFailedV1> = z.object({
  orderId, reason: z.enum(['insufficient-stock', 'unknown-sku']), skus: z.array(z.string()),
});

export const stockReleased: z.ZodType<StockReleasedV1> = z.object({ orderId, reason: z.enum(['requested', 'expired']) });

export const stockCommitted: z.ZodType<StockCommittedV1> = z.object({ orderId });

export const stockCommitFailed: z.ZodType<StockCommitFailedV1> = z.object({ orderId, reason: z.literal('reservation-expired') });

export const restocked: z.ZodType<RestockedV1> = z.object({ orderId });

export const paymentAuthorized: z.ZodType<PaymentAuthorizedV1> = z.object({ orderId, paymentId: z.string(), amount: money });

export const paymentDeclined: z.ZodType<PaymentDeclinedV1> = z.object({
  orderId, reason: z.enum(['card-declined', 'insufficient-funds', 'invalid-token', 'provider-error']),
});

export const paymentCaptured: z.ZodType<PaymentCapturedV1> = z.object({ orderId, paymentId: z.string(), amount: money });

export const paymentCaptureFailed: z.ZodType<PaymentCaptureFailedV1> = z.object({ orderId, reason: z.string() });

export const paymentVoided: z.ZodType<PaymentVoidedV1> = z.object({ orderId });

export const paymentRefunded: z.ZodType<PaymentRefundedV1> = z.object({ orderId, amount: money });
