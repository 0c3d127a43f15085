import { z } from 'zod';
import type { HttpApp } from '../../../../platform/http/app.ts';
import { HttpProblem, problemSchema } from '../../../../platform/http/problem.ts';
import type { InventoryClient } from '../../contract.ts';

/** Where inventory's client reaches it over HTTP (services shape); a route for the `service` principal only. */
export const inventoryInternalPaths = {
  stockLevel: (sku: string) => `/internal/v1/inventory/stock-levels/${encodeURIComponent(sku)}`,
} as const;

const resultDto = z.union([
  z.object({ outcome: z.literal('set'), sku: z.string(), onHand: z.number(), reserved: z.number() }),
  z.object({ outcome: z.literal('refused'), sku: z.string(), reason: z.literal('below-reserved'), reserved: z.number() }),
]);

/** The server side of InventoryClient: the same in-process client, behind HTTP. */
export function inventoryInternalRoutes(client: InventoryClient) {
  return (app: HttpApp): void => {
    app.put('/internal/v1/inventory/stock-levels/:sku', {
      schema: {
        hide: true, params: z.object({ sku: z.string().min(1).max(64) }), body: z.strictObject({ onHand: z.number() }),
        response: { 200: resultDto, 400: problemSchema, 422: problemSchema },
      },
    }, async (request) => {
      try {
        return await client.setStockLevel(request.params.sku, request.body.onHand);
      } catch (error) {
        if (error instanceof Error && error.name === 'InvalidStockError') {
          throw new HttpProblem({ status: 422, slug: 'invalid-stock', title: 'The stock level is not valid', detail: error.message });
        }
        throw error;
      }
    });
  };
}
