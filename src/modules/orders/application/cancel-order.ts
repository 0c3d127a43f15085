import { OrderNotFoundError } from '../domain/order.errors.ts';
import { requestCancellation } from '../domain/order-saga.ts';
import type { Order } from '../domain/order.ts';
import type { OrderTransactions } from './ports.ts';

/** Cancels an order for its owner or an admin, sending the compensations its progress calls for. */
export class CancelOrder {
  readonly #transactions: OrderTransactions;
  readonly #now: () => Date;

  constructor(deps: { transactions: OrderTransactions; now?: () => Date }) {
    this.#transactions = deps.transactions;
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(orderId: string, caller: { id: string; isAdmin: boolean }): Promise<Order> {
    return this.#transactions.run(async (store) => {
      const order = await store.lock(orderId);
      if (order === undefined || (!caller.isAdmin && order.customer.id !== caller.id)) throw new OrderNotFoundError(orderId);
      const transition = requestCancellation(order, this.#now());
      await store.update(transition.order, transition.actions);
      return transition.order;
    });
  }
}
