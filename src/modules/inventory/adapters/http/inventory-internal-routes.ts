import { z } from 'zod';
import type { HttpApp } from '../../../../platform/http/app.ts';
import { HttpProblem, problemSchema } from '../../../../platform/http/problem.ts';
import { maxStockLevelBatchSize, type InventoryClient } from '../../contract.ts';

/** Where inventory's client reaches it over HTTP (services shape); a route for the `service` principal only. */
export const inventoryInternalPaths = {
  stockLevel: (sku: string) => `/internal/v1/inventory/stock-levels/${encodeURIComponent(sku)}`,
  stockLevelBatch: (key: string) => `/internal/v1/inventory/stock-level-batches/${encodeURIComponent(key)}`,
} as const;

const batchRequest = z.strictObject({
  levels: z.array(z.strictObject({ sku: z.string().max(64), onHand: z.number() })).min(1).max(maxStockLevelBatchSize),
});
const batchOutcomeDto = z.union([
  z.object({ outcome: z.literal('set') }),
  z.object({ outcome: z.literal('refused'), reserved: z.number() }),
  z.object({ outcome: z.literal('rejected'), reason: z.string() }),
]);

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

    // PUT by the batch's key: sending it again (a retry, an import resuming) answers its first outcomes.
    app.put('/internal/v1/inventory/stock-level-batches/:key', {
      schema: {
        hide: true, params: z.object({ key: z.string().min(1).max(200) }), body: batchRequest,
        response: { 200: z.object({ items: z.array(batchOutcomeDto) }), 400: problemSchema, 409: problemSchema },
      },
    }, async (request) => {
      try {
        return { items: await client.setStockLevels({ key: request.params.key, levels: request.body.levels }) };
      } catch (error) {
        if (error instanceof Error && error.name === 'BatchKeyReusedError') {
          throw new HttpProblem({ status: 409, slug: 'batch-key-reused', title: 'The batch key names another batch', detail: error.message });
        }
        throw error;
      }
    });
  };
}
