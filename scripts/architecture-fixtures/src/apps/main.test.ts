import type { start } from './main.ts'; // allowed
import type { buildOrder } from '../modules/shop/testing/order-builder.ts'; // allowed: a module's testing/
import type { placeOrder } from '../modules/shop/index.ts'; // allowed: a module's index.ts
import type { PgOrderRepository } from '../modules/shop/adapters/postgres/pg-order-repository.ts'; // VIOLATION module-boundary-outside-test

export type Used = [typeof start, typeof buildOrder, typeof placeOrder, PgOrderRepository];
