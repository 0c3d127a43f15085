import type { ServiceCaller } from '../../../../platform/http/service-caller.ts';
import type { ExportedOrderV1, OrderExportPositionV1, OrdersExportClient } from '../../contract.ts';
import { ordersInternalPaths } from '../http/orders-internal-routes.ts';

/** The orders export client over HTTP, for the jobs module running in another service than orders. */
export class HttpOrdersExportClient implements OrdersExportClient {
  readonly #orders: ServiceCaller;

  constructor(orders: ServiceCaller) {
    this.#orders = orders;
  }

  async exportPage(query: Parameters<OrdersExportClient['exportPage']>[0]): Promise<{ items: ExportedOrderV1[]; next: OrderExportPositionV1 | null; total?: number }> {
    // A read: asking another instance again answers the same page.
    const answer = await this.#orders.call('POST', ordersInternalPaths.exportPages, query, { retryable: true });
    if (answer.status !== 200) throw new Error(`orders answered ${answer.status} to an export page`);
    return answer.body as { items: ExportedOrderV1[]; next: OrderExportPositionV1 | null; total?: number };
  }
}
