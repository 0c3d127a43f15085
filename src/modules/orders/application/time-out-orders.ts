import { applyTimeout } from '../domain/order-saga.ts';
import type { OrderReader, OrderTransactions } from './ports.ts';

/** Compensates orders whose current saga step did not answer in time; returns how many it handled. */
export class TimeOutOrders {
  readonly #orders: OrderReader;
  readonly #transactions: OrderTransactions;
  readonly #now: () => Date;

  constructor(deps: { orders: OrderReader; transactions: OrderTransactions; now?: () => Date }) {
    this.#orders = deps.orders;
    this.#transactions = deps.transactions;
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(limit = 50): Promise<number> {
    const due = await this.#orders.findTimedOut(this.#now(), limit);
    let handled = 0;
    for (const orderId of due) {
      await this.#transactions.run(async (store) => {
        const order = await store.lock(orderId);
        if (order === undefined) return;
        const transition = applyTimeout(order, this.#now());
        if (transition.order === order) return;
        await store.update(transition.order, transition.actions);
        handled += 1;
      });
    }
    return handled;
  }
}
