import { placeOrder } from '../src/modules/shop/index.ts'; // allowed: a module through its index.ts
import { buildProduct } from '../src/modules/other/testing/product-builder.ts'; // VIOLATION module-boundary-outside: testing/ is for tests

import { main } from '../src/cli/main.ts'; // VIOLATION layout-direction: scripts sit below the command line

export const seed = [placeOrder, buildProduct, main];
