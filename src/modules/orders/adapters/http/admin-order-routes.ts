import type { HttpApp, RouteRegistration } from '../../../../platform/http/app.ts';
import { decodeCursor, encodeCursor } from '../../../../platform/http/cursor.ts';
import { invalidRequest, problemSchema } from '../../../../platform/http/problem.ts';
import type { GetOperationsSummary } from '../../application/get-operations-summary.ts';
import type { ListAllOrders } from '../../application/list-all-orders.ts';
import { adminOrderPageDto, listAllOrdersQuery, operationsSummaryDto, toAdminOrderDto, toOperationsSummaryDto } from './admin-order-dtos.ts';

export interface AdminOrderUseCases {
  listAllOrders: ListAllOrders;
  getOperationsSummary: GetOperationsSummary;
}

const tags = ['orders (admin)'];

/** What the people who run OrderStream read of orders: every order by filter, and the live summary. Admin-only by the route policies. */
export function adminOrderRoutes(useCases: AdminOrderUseCases): RouteRegistration {
  return (app: HttpApp): void => {
    app.get('/v1/admin/orders', {
      schema: {
        tags, summary: 'Every order, newest first, by status, customer email, placing time or SKU (admin)',
        querystring: listAllOrdersQuery, response: { 200: adminOrderPageDto, 400: problemSchema },
      },
    }, async (request) => {
      const { status, email, sku, cursor, limit } = request.query;
      const from = request.query.from === undefined ? undefined : new Date(request.query.from);
      const to = request.query.to === undefined ? undefined : new Date(request.query.to);
      if (from !== undefined && to !== undefined && from >= to) {
        throw invalidRequest('`from` must be before `to`', [{ location: 'querystring', field: 'from', message: 'is not before to' }]);
      }
      const page = await useCases.listAllOrders.execute(
        {
          ...(status === undefined ? {} : { status }), ...(email === undefined ? {} : { email }), ...(sku === undefined ? {} : { sku }),
          ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }),
        },
        { limit, ...(cursor === undefined ? {} : { after: decodeCursor(cursor) }) },
      );
      return { items: page.items.map(toAdminOrderDto), nextCursor: page.next === null ? null : encodeCursor(page.next) };
    });

    app.get('/v1/admin/summary', {
      schema: {
        tags, summary: 'A live summary of the last hour: orders placed, confirmed and cancelled per minute, the backlog, dead letters and the POST→CONFIRMED p95 (admin)',
        description: 'Served by the orders module (the orders service in the services shape). The per-minute counts and the p95 come from the orders in the database, so every orders instance answers alike; the backlog is the figure admission control and /metrics show; dead letters are those of the database the serving process uses: every module\'s in the single process, only the orders consumers\' in the services shape.',
        response: { 200: operationsSummaryDto },
      },
    }, async () => toOperationsSummaryDto(await useCases.getOperationsSummary.execute()));
  };
}
