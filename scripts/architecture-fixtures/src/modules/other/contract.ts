import type { Product } from './domain/product.ts'; // allowed: a contract may use its module's pure domain types
import { createOtherClient } from './index.ts'; // VIOLATION contract-purity: the module's factory
import type { ZodType } from 'zod'; // VIOLATION contract-purity: an npm package would load into every reader

export interface ProductListedV1 {
  readonly sku: Product['sku'];
}

export const otherEvents = {
  productListed: { type: 'other.product-listed', version: 1 },
} as const;

export type Leaked = [typeof createOtherClient, ZodType];
