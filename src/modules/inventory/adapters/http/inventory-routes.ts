import type { HttpApp } from '../../../../platform/http/app.ts';
import { HttpProblem, invalidRequest, notFound, problemSchema } from '../../../../platform/http/problem.ts';
import type { GetStockLevel } from '../../application/get-stock-level.ts';
import type { SetStockLevel } from '../../application/set-stock-level.ts';
import { InvalidStockError, OnHandBelowReservedError, StockItemNotFoundError } from '../../domain/inventory.errors.ts';
import { setStockRequest, skuParams, stockLevelDto, toStockLevelDto } from './stock-dtos.ts';

export interface InventoryHttpUseCases {
  setStockLevel: SetStockLevel;
  getStockLevel: GetStockLevel;
}

const problems = { 400: problemSchema, 404: problemSchema, 409: problemSchema };

/** Stock levels over HTTP (admin routes; open until the gateway enforces roles): parse, call a use case, map errors. */
export function inventoryRoutes(useCases: InventoryHttpUseCases) {
  return (app: HttpApp): void => {
    app.put('/v1/inventory/:sku', {
      schema: { tags: ['inventory'], summary: 'Set the on-hand stock of a SKU', params: skuParams, body: setStockRequest, response: { 200: stockLevelDto, ...problems } },
    }, async (request) => {
      const level = await useCases.setStockLevel.execute({ sku: request.params.sku, onHand: request.body.onHand, byAdmin: true }).catch(mapInventoryError);
      return toStockLevelDto(level);
    });

    app.get('/v1/inventory/:sku', {
      schema: { tags: ['inventory'], summary: 'Get the stock of a SKU', params: skuParams, response: { 200: stockLevelDto, ...problems } },
    }, async (request) => {
      const level = await useCases.getStockLevel.execute(request.params.sku).catch(mapInventoryError);
      return toStockLevelDto(level);
    });
  };
}

function mapInventoryError(error: unknown): never {
  if (error instanceof InvalidStockError) {
    const location = error.field === 'sku' ? 'params' : 'body';
    throw invalidRequest(error.message, [{ location, field: error.field, message: error.message.slice(error.field.length + 1) }]);
  }
  if (error instanceof StockItemNotFoundError) throw notFound(error.message);
  if (error instanceof OnHandBelowReservedError) {
    throw new HttpProblem({ status: 409, slug: 'insufficient-stock', title: 'Stock is reserved', detail: error.message });
  }
  throw error;
}
