import type { ProductChangedV1 } from '../contract.ts';
import type { Product } from '../domain/product.ts';

/** The integration event announcing a product's current state. */
export function productChangedEvent(product: Product, change: ProductChangedV1['change']): ProductChangedV1 {
  return {
    productId: product.id,
    sku: product.sku,
    name: product.name,
    description: product.description,
    price: { amount: product.price.amount, currency: product.price.currency },
    change,
    productVersion: product.version,
  };
}
