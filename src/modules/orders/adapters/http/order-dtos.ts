import { z } from 'zod';
import { maxLines, maxQuantity, type Order } from '../../domain/order.ts';

const moneyDto = z.object({ amount: z.int(), currency: z.string() });

export const placeOrderRequest = z.strictObject({
  items: z.array(z.strictObject({
    sku: z.string().min(1).max(64),
    quantity: z.int().min(1).max(maxQuantity),
  })).min(1).max(maxLines),
  payment: z.strictObject({ token: z.string().min(1).max(100).describe('A payment token, e.g. tok_visa') }),
}).meta({ id: 'PlaceOrderRequest', examples: [{ items: [{ sku: 'MUG-001', quantity: 2 }], payment: { token: 'tok_visa' } }] });

export const idempotencyHeaders = z.object({
  'idempotency-key': z.string().regex(/^[\x21-\x7e]{1,255}$/, 'must be 1-255 visible ASCII characters').describe('Unique per order attempt; retries reuse it.'),
});

export const orderDto = z.object({
  id: z.string(),
  status: z.enum(['PENDING', 'RESERVED', 'AUTHORIZED', 'CONFIRMED', 'CANCELLING', 'CANCELLED']),
  customerId: z.string(),
  lines: z.array(z.object({ sku: z.string(), name: z.string(), quantity: z.int(), unitPrice: moneyDto, lineTotal: moneyDto })),
  total: moneyDto,
  refunded: moneyDto.nullable(),
  cancellationReason: z.string().nullable(),
  timeline: z.array(z.object({ step: z.string(), at: z.iso.datetime(), detail: z.string().optional() })),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
}).meta({ id: 'Order' });

export const orderPageDto = z.object({ items: z.array(orderDto), nextCursor: z.string().nullable() }).meta({ id: 'OrderPage' });

export const orderIdParams = z.object({ id: z.string().min(1).max(100) });

export const listOrdersQuery = z.strictObject({
  cursor: z.string().min(1).max(500).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export type OrderDto = z.infer<typeof orderDto>;

/** Domain → DTO. The payment token is not echoed back. */
export function toOrderDto(order: Order): OrderDto {
  return {
    id: order.id,
    status: order.status,
    customerId: order.customer.id,
    lines: order.lines.map((line) => ({ sku: line.sku, name: line.name, quantity: line.quantity, unitPrice: { ...line.unitPrice }, lineTotal: { ...line.lineTotal } })),
    total: { ...order.total },
    refunded: order.refunded === null ? null : { ...order.refunded },
    cancellationReason: order.cancellationReason,
    timeline: order.timeline.map((entry) => ({ step: entry.step, at: entry.at.toISOString(), ...(entry.detail === undefined ? {} : { detail: entry.detail }) })),
    createdAt: order.createdAt.toISOString(),
    updatedAt: order.updatedAt.toISOString(),
  };
}
