import type { shopRoutes } from './shop-routes.ts'; // allowed: own module's internals
import type { buildOrder } from '../../testing/order-builder.ts'; // allowed: own module's testing/
import type { buildProduct } from '../../../other/testing/product-builder.ts'; // allowed: another module's testing/
import type { createOtherClient } from '../../../other/index.ts'; // allowed: another module's index.ts
import type { Product } from '../../../other/domain/product.ts'; // VIOLATION module-boundary-test: another module's internals

export type Used = [typeof shopRoutes, typeof buildOrder, typeof buildProduct, typeof createOtherClient, Product];
