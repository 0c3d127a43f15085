import type { Order } from '../domain/order.ts'; // allowed: own domain/

export interface OrderRepository {
  save(order: Order): Promise<void>;
}
