import { z } from 'zod';
import type { OperationsSummary } from '../../application/get-operations-summary.ts';
import type { Order } from '../../domain/order.ts';
import { orderDto, toOrderDto } from './order-dtos.ts';

const orderStatus = orderDto.shape.status;

// Within the years a page cursor can carry (platform/http/cursor.ts), and PostgreSQL stores without surprise.
const filterTime = z.iso.datetime({ offset: true }).refine((text) => {
  const year = new Date(text).getUTCFullYear();
  return year >= 1970 && year <= 9999;
}, 'must be a time from 1970 to 9999');

export const listAllOrdersQuery = z.strictObject({
  status: orderStatus.optional().describe('Only orders in this status.'),
  email: z.string().min(1).max(320).optional().describe('Only orders placed with this customer email (exact, case-insensitive).'),
  from: filterTime.optional().describe('Only orders placed at or after this time (RFC 3339).'),
  to: filterTime.optional().describe('Only orders placed before this time (RFC 3339).'),
  sku: z.string().regex(/^\s*[A-Za-z0-9][A-Za-z0-9._-]{0,63}\s*$/, 'must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit').optional()
    .describe('Only orders with a line of this SKU (case-insensitive).'),
  cursor: z.string().min(1).max(500).optional().describe('The nextCursor of the previous page.'),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export const adminOrderDto = orderDto.extend({
  customerEmail: z.string().describe('The customer email the order was placed with (kept with the order).'),
}).meta({ id: 'AdminOrder' });

export const adminOrderPageDto = z.object({ items: z.array(adminOrderDto), nextCursor: z.string().nullable() }).meta({ id: 'AdminOrderPage' });

const perMinute = z.array(z.int()).length(60);

export const operationsSummaryDto = z.object({
  generatedAt: z.iso.datetime(),
  minutes: z.array(z.iso.datetime()).length(60)
    .describe('The start of each of the last 60 minutes, oldest first; the last is the current, unfinished minute. The three series below have one count per minute.'),
  placed: perMinute.describe('Orders placed in each minute, counted from the orders themselves (created_at), across every orders instance.'),
  confirmed: perMinute.describe('Orders confirmed in each minute (the time of their `confirmed` timeline step).'),
  cancelled: perMinute.describe('Orders cancelled in each minute (the time of their `cancelled` timeline step); an order confirmed and later cancelled counts in both series.'),
  backlog: z.object({
    unfinished: z.int().describe('Accepted orders not yet CONFIRMED or CANCELLED, as admission control last counted them: the orderstream_order_backlog gauge of /metrics.'),
    limit: z.int().describe('Where new orders are refused with 503 at that count (ORDER_BACKLOG_LIMIT, lowered by ORDER_BACKLOG_SECONDS): the orderstream_order_backlog_limit gauge; 0 when none are refused.'),
    countedAt: z.iso.datetime().describe('When this orders instance counted (every 250 ms by default).'),
  }).nullable().describe('Null until this orders instance has counted once.'),
  deadLetters: z.array(z.object({ module: z.string(), waiting: z.int() }))
    .describe('Dead letters not yet replayed, per module whose consumer failed them (the orderstream_dead_letters gauge, summed per module); modules with none are absent. In the single process these are every module\'s; in the services shape only the orders service\'s own (each service answers for its own at /v1/admin/<module>/dead-letters).'),
  confirmation: z.object({
    p95Seconds: z.number().nullable().describe('95th percentile of seconds from placing (created_at) to the `confirmed` timeline step, over the orders confirmed in the 60 minutes shown; null when none were.'),
    confirmed: z.int().describe('How many confirmed orders the percentile is taken over.'),
  }),
}).meta({ id: 'OperationsSummary' });

export function toAdminOrderDto(order: Order): z.infer<typeof adminOrderDto> {
  return { ...toOrderDto(order), customerEmail: order.customer.email };
}

export function toOperationsSummaryDto(summary: OperationsSummary): z.infer<typeof operationsSummaryDto> {
  const { backlog } = summary;
  return {
    generatedAt: summary.generatedAt.toISOString(),
    minutes: summary.minutes.map((minute) => minute.toISOString()),
    placed: summary.placed,
    confirmed: summary.confirmed,
    cancelled: summary.cancelled,
    backlog: backlog === undefined ? null : { unfinished: backlog.unfinished, limit: backlog.limit, countedAt: backlog.countedAt.toISOString() },
    deadLetters: summary.deadLetters.map((entry) => ({ ...entry })),
    confirmation: { ...summary.confirmation },
  };
}
