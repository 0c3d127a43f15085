import { placeOrder, shopRoutes } from '../modules/shop/index.ts'; // allowed: a module through its index.ts
import { createLogger } from '../platform/logging/logger.ts'; // allowed: apps use platform
import { createOrder } from '../modules/shop/domain/order.ts'; // VIOLATION module-boundary-outside: a module's internals

export function start(): unknown {
  createLogger().info('start');
  return [placeOrder, shopRoutes, createOrder];
}
