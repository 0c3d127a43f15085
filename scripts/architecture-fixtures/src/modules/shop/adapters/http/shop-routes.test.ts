import type { shopRoutes } from './shop-routes.ts'; // allowed: own module's internals
import type { buildOrder } from '../../testing/order-builder.ts'; // allowed: own module's testing/
import type { buildProduct } from '../../../other/testing/product-builder.ts'; // allowed: another module's testing/
import type { ProductListedV1 } from '../../../other/contract.ts'; // allowed: another module's contract.ts
import type { createOtherClient } from '../../../other/index.ts'; // VIOLATION module-boundary-test: another module's factory
import type { Product } from '../../../other/domain/product.ts'; // VIOLATION module-boundary-test: another module's internals

export type Used = [typeof shopRoutes, typeof buildOrder, typeof buildProduct, ProductListedV1, typeof createOtherClient, Product];
