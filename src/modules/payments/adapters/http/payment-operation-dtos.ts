import { z } from 'zod';
import type { PaymentOperationView } from '../../application/ports.ts';
import { operationKinds } from '../../domain/payment.ts';

const listedStatus = z.enum(['failed', 'pending']);

const moneyDto = z.object({ amount: z.int(), currency: z.string() });

export const paymentOperationDto = z.object({
  id: z.string(),
  orderId: z.string(),
  kind: z.enum(operationKinds),
  status: z.enum(['pending', 'done', 'failed']),
  attempts: z.int(),
  outcome: z.string().nullable().describe('How it ended (failed, voided, captured, …); null while pending.'),
  lastError: z.string().nullable().describe('The last error or detail the worker recorded.'),
  amount: moneyDto.nullable().describe('The amount of the order\'s payment; null when the order has no payment.'),
  paymentStatus: z.enum(['pending', 'authorized', 'declined', 'captured', 'voided', 'refunded']).nullable()
    .describe('Where the order\'s payment stands now; a retry is planned from it.'),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime().nullable(),
}).meta({ id: 'PaymentOperation' });

export const paymentOperationPageDto = z.object({
  items: z.array(paymentOperationDto),
  nextCursor: z.string().nullable(),
}).meta({ id: 'PaymentOperationPage' });

export const listPaymentOperationsQuery = z.strictObject({
  status: listedStatus.optional().describe('Only operations with this status: failed or pending. Without it: the failed ones, or with orderId every operation of that order.'),
  orderId: z.string().min(1).max(100).optional().describe('Only the operations of this order (any status, unless status is given), e.g. for an order\'s detail.'),
  cursor: z.string().min(1).max(500).optional().describe('The nextCursor of the previous page.'),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export const operationIdParams = z.object({ id: z.string().min(1).max(100) });

export function toPaymentOperationDto(view: PaymentOperationView): z.infer<typeof paymentOperationDto> {
  return {
    id: String(view.id),
    orderId: view.orderId,
    kind: view.kind,
    status: view.status,
    attempts: view.attempts,
    outcome: view.outcome,
    lastError: view.lastError,
    amount: view.payment === undefined ? null : { ...view.payment.amount },
    paymentStatus: view.payment?.status ?? null,
    createdAt: view.createdAt.toISOString(),
    updatedAt: view.updatedAt.toISOString(),
    finishedAt: view.finishedAt === null ? null : view.finishedAt.toISOString(),
  };
}
