import type { SagaAction } from '../domain/order-saga.ts';
import type { Order } from '../domain/order.ts';
import type { OrderCursor, OrderReader, OrderStore, OrderTransactions } from '../application/ports.ts';

/** Orders kept in a map, with the saga actions each write asked for; for use-case tests. */
export class InMemoryOrders implements OrderTransactions, OrderReader {
  readonly orders = new Map<string, Order>();
  readonly actions: SagaAction[] = [];

  async run<T>(work: (store: OrderStore) => Promise<T>): Promise<T> {
    // Writes land in a copy that replaces the orders only if the work succeeds, as a rollback would.
    const staged = new Map(this.orders);
    const actions: SagaAction[] = [];
    const store: OrderStore = {
      lock: (orderId) => Promise.resolve(staged.get(orderId)),
      insert: (order, caused) => { staged.set(order.id, order); actions.push(...caused); return Promise.resolve(); },
      update: (order, caused) => { staged.set(order.id, order); actions.push(...caused); return Promise.resolve(); },
      completeIdempotencyKey: () => Promise.resolve(),
    };
    const result = await work(store);
    for (const [id, order] of staged) this.orders.set(id, order);
    this.actions.push(...actions);
    return result;
  }

  findById(orderId: string): Promise<Order | undefined> {
    return Promise.resolve(this.orders.get(orderId));
  }

  listByCustomer(customerId: string, page: { limit: number; after?: OrderCursor }): Promise<{ items: Order[]; next: OrderCursor | null }> {
    const items = [...this.orders.values()].filter((order) => order.customer.id === customerId).slice(0, page.limit);
    return Promise.resolve({ items, next: null });
  }

  findTimedOut(now: Date, limit: number): Promise<string[]> {
    return Promise.resolve([...this.orders.values()]
      .filter((order) => order.stepDeadline !== null && order.stepDeadline <= now).slice(0, limit).map((order) => order.id));
  }
}
