import { createOrder, type Order } from '../domain/order.ts'; // allowed: testing/ uses its own module

export function buildOrder(amount = 100): Order {
  return createOrder(amount);
}
