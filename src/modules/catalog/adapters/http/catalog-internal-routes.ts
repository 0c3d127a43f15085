import { z } from 'zod';
import type { HttpApp } from '../../../../platform/http/app.ts';
import { HttpProblem, problemSchema } from '../../../../platform/http/problem.ts';
import { maxProductBatchSize, type CatalogClient, type CatalogImportClient } from '../../contract.ts';
import { moneyDto } from './product-dtos.ts';

/** Where the catalog's clients reach it over HTTP (services shape); routes for the `service` principal only. */
export const catalogInternalPaths = {
  productSnapshots: '/internal/v1/catalog/product-snapshots',
  product: (sku: string) => `/internal/v1/catalog/products/${encodeURIComponent(sku)}`,
  productBatch: (key: string) => `/internal/v1/catalog/product-batches/${encodeURIComponent(key)}`,
} as const;

const snapshotsRequest = z.strictObject({ skus: z.array(z.string().min(1).max(64)).min(1).max(1000) });
const snapshotDto = z.object({ id: z.string(), sku: z.string(), name: z.string(), price: moneyDto });
const upsertRequest = z.strictObject({ name: z.string(), description: z.string(), price: moneyDto });
const batchRequest = z.strictObject({
  products: z.array(z.strictObject({ sku: z.string().max(64), name: z.string(), description: z.string(), price: moneyDto })).min(1).max(maxProductBatchSize),
});
const batchOutcomeDto = z.union([
  z.object({ outcome: z.enum(['created', 'updated']) }),
  z.object({ outcome: z.literal('rejected'), reason: z.string() }),
]);

/** The server side of CatalogClient and CatalogImportClient: the same in-process client, behind HTTP. */
export function catalogInternalRoutes(client: CatalogClient & CatalogImportClient) {
  return (app: HttpApp): void => {
    app.post(catalogInternalPaths.productSnapshots, {
      schema: { hide: true, body: snapshotsRequest, response: { 200: z.object({ items: z.array(snapshotDto) }), 400: problemSchema } },
    }, async (request) => ({ items: await client.findProductsBySku(request.body.skus) }));

    app.put('/internal/v1/catalog/products/:sku', {
      schema: {
        hide: true, params: z.object({ sku: z.string().min(1).max(64) }), body: upsertRequest,
        response: { 200: z.object({ created: z.boolean() }), 400: problemSchema, 422: problemSchema },
      },
    }, async (request) => {
      try {
        return await client.upsertProduct({ sku: request.params.sku, ...request.body });
      } catch (error) {
        if (error instanceof Error && error.name === 'InvalidProductError') {
          throw new HttpProblem({ status: 422, slug: 'invalid-product', title: 'The product breaks a catalogue rule', detail: error.message });
        }
        throw error;
      }
    });

    // PUT by the batch's key: sending it again (a retry, an import resuming) answers its first outcomes.
    app.put('/internal/v1/catalog/product-batches/:key', {
      schema: {
        hide: true, params: z.object({ key: z.string().min(1).max(200) }), body: batchRequest,
        response: { 200: z.object({ items: z.array(batchOutcomeDto) }), 400: problemSchema, 409: problemSchema },
      },
    }, async (request) => {
      try {
        return { items: await client.upsertProducts({ key: request.params.key, products: request.body.products }) };
      } catch (error) {
        if (error instanceof Error && error.name === 'BatchKeyReusedError') {
          throw new HttpProblem({ status: 409, slug: 'batch-key-reused', title: 'The batch key names another batch', detail: error.message });
        }
        throw error;
      }
    });
  };
}
