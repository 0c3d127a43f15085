import { normaliseSku, type Order } from '../domain/order.ts';
import type { OrderCursor, OrderFilter, OrderOperationsReader } from './ports.ts';

/** Lists every customer's orders for an admin, newest first, narrowed by filters, one page at a time after a position. */
export class ListAllOrders {
  readonly #orders: OrderOperationsReader;

  constructor(deps: { orders: OrderOperationsReader }) {
    this.#orders = deps.orders;
  }

  execute(filter: OrderFilter, page: { limit: number; after?: OrderCursor }): Promise<{ items: Order[]; next: OrderCursor | null }> {
    const normalised = filter.sku === undefined ? filter : { ...filter, sku: normaliseSku(filter.sku) };
    return this.#orders.listAll(normalised, { limit: page.limit, ...(page.after === undefined ? {} : { after: page.after }) });
  }
}
