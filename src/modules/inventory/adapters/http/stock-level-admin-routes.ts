import { z } from 'zod';
import type { HttpApp, RouteRegistration } from '../../../../platform/http/app.ts';
import { invalidRequest, problemSchema } from '../../../../platform/http/problem.ts';
import type { ListStockLevels } from '../../application/list-stock-levels.ts';
import { maxOnHand } from '../../domain/stock-level.ts';
import { stockLevelDto, toStockLevelDto } from './stock-dtos.ts';

export const listStockLevelsQuery = z.strictObject({
  below: z.coerce.number().int().min(1).max(maxOnHand + 1).optional()
    .describe('Only SKUs with fewer than this many units available (low stock).'),
  cursor: z.string().min(1).max(200).optional().describe('The nextCursor of the previous page.'),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export const stockLevelPageDto = z.object({ items: z.array(stockLevelDto), nextCursor: z.string().nullable() }).meta({ id: 'StockLevelPage' });

// What the cursor carries: the last SKU of a page, as stored (normal form).
const storedSku = /^[A-Z0-9][A-Z0-9._-]{0,63}$/;

/** The admin's list of every SKU's stock level, in SKU order. Admin-only by the route policies. */
export function stockLevelAdminRoutes(useCases: { listStockLevels: ListStockLevels }): RouteRegistration {
  return (app: HttpApp): void => {
    app.get('/v1/admin/stock-levels', {
      schema: {
        tags: ['inventory'], summary: 'Stock levels of every SKU in SKU order, optionally only low ones (admin)',
        querystring: listStockLevelsQuery, response: { 200: stockLevelPageDto, 400: problemSchema },
      },
    }, async (request) => {
      const { below, cursor, limit } = request.query;
      const page = await useCases.listStockLevels.execute({
        limit, ...(below === undefined ? {} : { below }), ...(cursor === undefined ? {} : { afterSku: decodeSkuCursor(cursor) }),
      });
      return { items: page.items.map(toStockLevelDto), nextCursor: page.next === null ? null : Buffer.from(page.next).toString('base64url') };
    });
  };
}

function decodeSkuCursor(cursor: string): string {
  const sku = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!storedSku.test(sku) || Buffer.from(sku).toString('base64url') !== cursor) {
    throw invalidRequest('The cursor is not valid; use the nextCursor of a previous page', [{ location: 'querystring', field: 'cursor', message: 'is not valid' }]);
  }
  return sku;
}
