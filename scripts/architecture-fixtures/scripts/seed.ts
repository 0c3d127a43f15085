import { placeOrder } from '../src/modules/shop/index.ts'; // allowed: a module through its index.ts
import { buildProduct } from '../src/modules/other/testing/product-builder.ts'; // VIOLATION module-boundary-outside: testing/ is for tests

export const seed = [placeOrder, buildProduct];
