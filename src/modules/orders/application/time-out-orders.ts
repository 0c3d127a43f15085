import { applyTimeout, compensationResends, needsAttention } from '../domain/order-saga.ts';
import type { OperationsLog, OrderMetrics, OrderReader, OrderTransactions } from './ports.ts';
import { noOrderMetrics, reportTransition } from './report-transition.ts';

/**
 * Compensates orders whose current saga step did not answer in time, and sends the compensations
 * of cancelling orders again when they went unanswered; an order still cancelling after repeated
 * re-sends is logged as an error and counted, so no order stays unfinished unnoticed. Returns how
 * many orders it handled.
 */
export class TimeOutOrders {
  readonly #orders: OrderReader;
  readonly #transactions: OrderTransactions;
  readonly #stepTimeoutMs: number;
  readonly #metrics: OrderMetrics;
  readonly #log: OperationsLog | undefined;
  readonly #now: () => Date;

  constructor(deps: { orders: OrderReader; transactions: OrderTransactions; stepTimeoutMs: number; metrics?: OrderMetrics; log?: OperationsLog; now?: () => Date }) {
    this.#orders = deps.orders;
    this.#transactions = deps.transactions;
    this.#stepTimeoutMs = deps.stepTimeoutMs;
    this.#metrics = deps.metrics ?? noOrderMetrics;
    this.#log = deps.log;
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
        const transition = applyTimeout(order, now, this.#stepTimeoutMs);
        if (transition.order === order) return undefined;
        await store.update(transition.order, transition.actions);
        return { before: order, after: transition.order };
      });
      if (changed === undefined) continue;
      handled += 1;
      reportTransition(this.#metrics, changed.before, changed.after, now, 'timed-out');
      if (needsAttention(changed.after)) {
        this.#log?.error({
          orderId, pendingCompensations: changed.after.pendingCompensations, resends: compensationResends(changed.after), since: changed.after.cancellationReason,
        }, 'order still cancelling after its compensations were re-sent repeatedly; money or stock may be held (check payments operations and inventory)');
      }
    }
    return handled;
  }
}
