import { maxOrderExportPage, type ExportedOrderV1, type OrderExportFilterV1, type OrderExportPositionV1 } from '../contract.ts';
import { normaliseSku } from '../domain/order.ts';
import type { OrderExportReader, OrderFilter } from './ports.ts';

/**
 * One page of an order export, for the jobs module through the orders contract: the orders matching
 * the filter placed before the export's instant, newest first, after the position the last page
 * ended at; with `count`, how many match in all.
 */
export class ExportOrderPage {
  readonly #orders: OrderExportReader;

  constructor(deps: { orders: OrderExportReader }) {
    this.#orders = deps.orders;
  }

  async execute(query: {
    filter: OrderExportFilterV1; placedBefore: string; after?: OrderExportPositionV1; limit: number; count?: boolean;
  }): Promise<{ items: ExportedOrderV1[]; next: OrderExportPositionV1 | null; total?: number }> {
    const filter = toFilter(query.filter);
    const placedBefore = new Date(query.placedBefore);
    const limit = Math.min(Math.max(1, Math.trunc(query.limit)), maxOrderExportPage);
    const [page, total] = await Promise.all([
      this.#orders.page(filter, placedBefore, { limit, ...(query.after === undefined ? {} : { after: query.after }) }),
      query.count === true ? this.#orders.count(filter, placedBefore) : Promise.resolve(undefined),
    ]);
    return { items: page.items, next: page.next, ...(total === undefined ? {} : { total }) };
  }
}

function toFilter(filter: OrderExportFilterV1): OrderFilter {
  return {
    ...(filter.status === undefined ? {} : { status: filter.status }),
    ...(filter.email === undefined ? {} : { email: filter.email }),
    ...(filter.customerId === undefined ? {} : { customerId: filter.customerId }),
    ...(filter.sku === undefined ? {} : { sku: normaliseSku(filter.sku) }),
    ...(filter.from === undefined ? {} : { from: new Date(filter.from) }),
    ...(filter.to === undefined ? {} : { to: new Date(filter.to) }),
  };
}
