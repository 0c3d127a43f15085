import type { Order } from '../domain/order.ts';
import type { OrderCursor, OrderReader } from './ports.ts';

/** Lists the caller's own orders, newest first, one page at a time after a position. */
export class ListOrders {
  readonly #orders: OrderReader;

  constructor(deps: { orders: OrderReader }) {
    this.#orders = deps.orders;
  }

  execute(customerId: string, page: { limit: number; after?: OrderCursor }): Promise<{ items: Order[]; next: OrderCursor | null }> {
    return this.#orders.listByCustomer(customerId, { limit: page.limit, ...(page.after === undefined ? {} : { after: page.after }) });
  }
}
