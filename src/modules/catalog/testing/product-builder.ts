import type { NewProduct } from '../domain/product.ts';

let sequence = 0;

/** A valid new product with a unique SKU; override only what a test is about. */
export function aNewProduct(overrides: Partial<NewProduct> = {}): NewProduct {
  sequence += 1;
  return {
    sku: `SKU-${process.pid}-${sequence}`,
    name: `Test product ${sequence}`,
    description: 'A product made for a test',
    price: { amount: 1999, currency: 'EUR' },
    ...overrides,
  };
}
