import { OrderNotFoundError } from '../domain/order.errors.ts';
import type { Order } from '../domain/order.ts';
import type { OrderReader } from './ports.ts';

/** Reads one order for its owner or an admin; anyone else is told it does not exist. */
export class GetOrder {
  readonly #orders: OrderReader;

  constructor(deps: { orders: OrderReader }) {
    this.#orders = deps.orders;
  }

  async execute(orderId: string, caller: { id: string; isAdmin: boolean }): Promise<Order> {
    const order = await this.#orders.findById(orderId);
    if (order === undefined || (!caller.isAdmin && order.customer.id !== caller.id)) throw new OrderNotFoundError(orderId);
    return order;
  }
}
