import { z } from 'zod';
import type { HttpApp } from '../../../../platform/http/app.ts';
import { problemSchema } from '../../../../platform/http/problem.ts';
import { maxOrderExportPage, type OrdersExportClient } from '../../contract.ts';
import { orderDto } from './order-dtos.ts';

/** Where the orders client reaches the module over HTTP (services shape); routes for the `service` principal only. */
export const ordersInternalPaths = {
  exportPages: '/internal/v1/orders/export-pages',
} as const;

const instant = z.iso.datetime({ offset: true });
const money = z.object({ amount: z.int(), currency: z.string() });

const exportPageRequest = z.strictObject({
  filter: z.strictObject({
    status: orderDto.shape.status.optional(),
    from: instant.optional(),
    to: instant.optional(),
    customerId: z.string().min(1).max(200).optional(),
    email: z.string().min(1).max(320).optional(),
    sku: z.string().min(1).max(64).optional(),
  }),
  placedBefore: instant,
  after: z.strictObject({ placedAt: z.string().min(1).max(64), orderId: z.string().min(1).max(200) }).optional(),
  limit: z.int().min(1).max(maxOrderExportPage),
  count: z.boolean().optional(),
});

const exportedOrder = z.object({
  id: z.string(), status: z.string(), customerId: z.string(), customerEmail: z.string(),
  lines: z.array(z.object({ sku: z.string(), quantity: z.int(), lineTotal: money })),
  total: money, refunded: money.nullable(), cancellationReason: z.string().nullable(),
  createdAt: z.string(), updatedAt: z.string(),
});

/** The server side of OrdersExportClient: the same in-process client, behind HTTP. */
export function ordersInternalRoutes(client: OrdersExportClient) {
  return (app: HttpApp): void => {
    // A POST that reads: the filter and position are a body, not a query string; asking again is harmless.
    app.post(ordersInternalPaths.exportPages, {
      schema: {
        hide: true, body: exportPageRequest,
        response: {
          200: z.object({ items: z.array(exportedOrder), next: z.object({ placedAt: z.string(), orderId: z.string() }).nullable(), total: z.int().optional() }),
          400: problemSchema,
        },
      },
    }, async (request) => {
      const { filter, placedBefore, after, limit, count } = request.body;
      return client.exportPage({
        filter, placedBefore, limit,
        ...(after === undefined ? {} : { after }),
        ...(count === undefined ? {} : { count }),
      });
    });
  };
}
