import { otherEvents } from '../../../other/contract.ts'; // allowed: another module through its contract.ts
import { createOtherClient } from '../../../other/index.ts'; // VIOLATION module-boundary: another module's factory
import { listProducts } from '../../../other/application/list-products.ts'; // VIOLATION module-boundary: another module's internals
import { buildProduct } from '../../../other/testing/product-builder.ts'; // VIOLATION module-boundary: another module's testing/ from product code
import { placeOrder } from '../../application/place-order.ts'; // allowed: own module

export function shopRoutes(): unknown[] {
  return [otherEvents, createOtherClient, listProducts, buildProduct, placeOrder];
}
