import { z } from 'zod';
import type { ProductView } from '../../application/ports.ts';
import { availabilityOf, availabilityStatuses } from '../../domain/availability.ts';
import { maxDescriptionLength, maxNameLength } from '../../domain/product.ts';

/** Money on the wire: integer minor units and an ISO 4217 code. */
export const moneyDto = z.strictObject({
  amount: z.int().min(0, 'must not be negative').max(Number.MAX_SAFE_INTEGER).describe('Integer minor units (cents); never a float.'),
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be a three-letter upper-case ISO 4217 code').describe('ISO 4217 code, e.g. EUR.'),
}).meta({ id: 'Money' });

export const availabilityDto = z.object({
  status: z.enum(availabilityStatuses)
    .describe('`out-of-stock` when nothing can be ordered (or no stock was ever set), `low` below LOW_STOCK_THRESHOLD units, else `in-stock`.'),
  available: z.int().min(0).optional().describe('Units that can be ordered now (on hand, less what orders reserved). Only for admins.'),
}).meta({
  id: 'Availability',
  description: 'Inventory\'s stock of the SKU as the catalogue last heard of it: moments behind an order or a stock change.',
});

export const productDto = z.object({
  id: z.string(),
  sku: z.string(),
  name: z.string(),
  description: z.string(),
  price: moneyDto,
  availability: availabilityDto,
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
}).meta({ id: 'Product' });

export const createProductRequest = z.strictObject({
  sku: z.string().min(1).max(64),
  name: z.string().min(1).max(maxNameLength),
  description: z.string().max(maxDescriptionLength).default(''),
  price: moneyDto,
}).meta({ id: 'CreateProductRequest', examples: [{ sku: 'MUG-001', name: 'Enamel mug', description: 'Holds 350 ml.', price: { amount: 1250, currency: 'EUR' } }] });

export const updateProductRequest = z.strictObject({
  name: z.string().min(1).max(maxNameLength).optional(),
  description: z.string().max(maxDescriptionLength).optional(),
  price: moneyDto.optional(),
}).refine((changes) => changes.name !== undefined || changes.description !== undefined || changes.price !== undefined, {
  message: 'give at least one of name, description or price',
}).meta({ id: 'UpdateProductRequest', examples: [{ price: { amount: 1100, currency: 'EUR' } }] });

const amountQuery = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const listProductsQuery = z.strictObject({
  q: z.string().trim().min(1).max(200).optional().describe('Text to find in SKU, name or description.'),
  minPrice: amountQuery.optional().describe('Lowest price, in minor units.'),
  maxPrice: amountQuery.optional().describe('Highest price, in minor units.'),
  currency: z.string().regex(/^[A-Z]{3}$/).optional(),
  cursor: z.string().min(1).max(500).optional().describe('The nextCursor of the previous page.'),
  limit: z.coerce.number().int().min(1).max(100).default(20),
}).refine((query) => query.minPrice === undefined || query.maxPrice === undefined || query.minPrice <= query.maxPrice, {
  message: 'minPrice must not exceed maxPrice', path: ['minPrice'],
});

export const productPageDto = z.object({
  items: z.array(productDto),
  nextCursor: z.string().nullable(),
}).meta({ id: 'ProductPage' });

export const productIdParams = z.object({ id: z.string().min(1).max(100) });

export type ProductDto = z.infer<typeof productDto>;

/** How a caller sees availability: the threshold under which stock shows low, and whether the quantity shows (admins). */
export interface AvailabilityShown {
  lowStockThreshold: number;
  withQuantity: boolean;
}

/** Domain → DTO; the only place the wire shape of a product is decided. */
export function toProductDto({ product, stock }: ProductView, shown: AvailabilityShown): ProductDto {
  const availability = availabilityOf(stock, shown.lowStockThreshold);
  return {
    id: product.id,
    sku: product.sku,
    name: product.name,
    description: product.description,
    price: { amount: product.price.amount, currency: product.price.currency },
    availability: shown.withQuantity ? { status: availability.status, available: availability.available } : { status: availability.status },
    createdAt: product.createdAt.toISOString(),
    updatedAt: product.updatedAt.toISOString(),
  };
}
