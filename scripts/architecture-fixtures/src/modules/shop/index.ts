// The module's door: it may wire anything inside its own module.
export { placeOrder } from './application/place-order.ts';
export { shopRoutes } from './adapters/http/shop-routes.ts';
export type { OrderPlacedV1 } from './contract.ts';
