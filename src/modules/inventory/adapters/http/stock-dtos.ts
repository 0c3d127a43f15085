import { z } from 'zod';
import { availableOf, maxOnHand, type StockLevel } from '../../domain/stock-level.ts';

export const stockLevelDto = z.object({
  sku: z.string(),
  onHand: z.int(),
  reserved: z.int(),
  available: z.int().describe('onHand − reserved: what orders can still reserve.'),
}).meta({ id: 'StockLevel' });

export const setStockRequest = z.strictObject({
  onHand: z.int().min(0, 'must not be negative').max(maxOnHand, `must be at most ${maxOnHand}`).describe('Units on the shelf.'),
}).meta({ id: 'SetStockRequest', examples: [{ onHand: 40 }] });

// The SKU's form is checked by the domain (after upper-casing), which names it in a 400.
export const skuParams = z.object({ sku: z.string().min(1).max(200) });

export type StockLevelDto = z.infer<typeof stockLevelDto>;

/** Domain → DTO; the only place the wire shape of a stock level is decided. */
export function toStockLevelDto(level: StockLevel): StockLevelDto {
  return { sku: level.sku, onHand: level.onHand, reserved: level.reserved, available: availableOf(level) };
}
