import { placeOrder, shopRoutes } from '../modules/shop/index.ts'; // allowed: a module through its index.ts
import { createLogger } from '../platform/logging/logger.ts'; // allowed: apps use platform
import { nginx } from '../../tools/nginx.ts'; // VIOLATION image-leaves-out: the image has no tools/
import { shopRoutePolicies } from '../modules/shop/adapters/http/shop-route-policies.ts'; // allowed: a module's route policies, pure data
import { createOrder } from '../modules/shop/domain/order.ts'; // VIOLATION module-boundary-outside: a module's internals

export function start(): unknown {
  createLogger().info('start');
  return [placeOrder, shopRoutes, createOrder, nginx, shopRoutePolicies];
}
