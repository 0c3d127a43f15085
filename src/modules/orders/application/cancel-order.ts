import { OrderNotFoundError } from '../domain/order.errors.ts';
import { requestCancellation } from '../domain/order-saga.ts';
import type { Order } from '../domain/order.ts';
import type { OrderMetrics, OrderTransactions } from './ports.ts';
import { noOrderMetrics, reportTransition } from './report-transition.ts';

/** Cancels an order for its owner or an admin, sending the compensations its progress calls for. */
export class CancelOrder {
  readonly #transactions: OrderTransactions;
  readonly #stepTimeoutMs: number;
  readonly #metrics: OrderMetrics;
  readonly #now: () => Date;

  constructor(deps: { transactions: OrderTransactions; stepTimeoutMs: number; metrics?: OrderMetrics; now?: () => Date }) {
    this.#transactions = deps.transactions;
    this.#stepTimeoutMs = deps.stepTimeoutMs;
    this.#metrics = deps.metrics ?? noOrderMetrics;
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(orderId: string, caller: { id: string; isAdmin: boolean }): Promise<Order> {
    const now = this.#now();
    const { before, after } = await this.#transactions.run(async (store) => {
      const order = await store.lock(orderId);
      if (order === undefined || (!caller.isAdmin && order.customer.id !== caller.id)) throw new OrderNotFoundError(orderId);
      const transition = requestCancellation(order, now, this.#stepTimeoutMs);
      await store.update(transition.order, transition.actions);
      // An admin cancelling someone's order is an administrative act; a customer cancelling their own is not.
      if (caller.isAdmin && order.customer.id !== caller.id) {
        await store.recordAdminAct({
          action: 'orders.order-cancelled', targetId: orderId,
          before: { status: order.status, customerId: order.customer.id }, after: { status: transition.order.status },
        });
      }
      return { before: order, after: transition.order };
    });
    reportTransition(this.#metrics, before, after, now, 'cancelled');
    return after;
  }
}
