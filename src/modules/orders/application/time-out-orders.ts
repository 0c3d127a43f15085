import { applyTimeout } from '../domain/order-saga.ts';
import type { OrderMetrics, OrderReader, OrderTransactions } from './ports.ts';
import { noOrderMetrics, reportTransition } from './report-transition.ts';

/** Compensates orders whose current saga step did not answer in time; returns how many it handled. */
export class TimeOutOrders {
  readonly #orders: OrderReader;
  readonly #transactions: OrderTransactions;
  readonly #metrics: OrderMetrics;
  readonly #now: () => Date;

  constructor(deps: { orders: OrderReader; transactions: OrderTransactions; metrics?: OrderMetrics; now?: () => Date }) {
    this.#orders = deps.orders;
    this.#transactions = deps.transactions;
    this.#metrics = deps.metrics ?? noOrderMetrics;
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(limit = 50): Promise<number> {
    const due = await this.#orders.findTimedOut(this.#now(), limit);
    let handled = 0;
    for (const orderId of due) {
      const now = this.#now();
      const changed = await this.#transactions.run(async (store) => {
        const order = await store.lock(orderId);
        if (order === undefined) return undefined;
        const transition = applyTimeout(order, now);
        if (transition.order === order) return undefined;
        await store.update(transition.order, transition.actions);
        return { before: order, after: transition.order };
      });
      if (changed === undefined) continue;
      handled += 1;
      reportTransition(this.#metrics, changed.before, changed.after, now, 'timed-out');
    }
    return handled;
  }
}
