import { IdempotencyKeyInUseError, IdempotencyKeyReusedError } from './idempotency.errors.ts';
import { UnknownSkuError } from '../domain/order.errors.ts';
import { normaliseSku, placeOrder, validateOrderRequest, type Order, type OrderRequest } from '../domain/order.ts';
import type { IdempotencyKeys, OrderMetrics, OrderTransactions, PriceCatalog } from './ports.ts';
import { noOrderMetrics } from './report-transition.ts';

export interface PlaceOrderInput extends OrderRequest {
  idempotencyKey: string;
  /** A digest of the request body: the same key with another body is refused. */
  requestHash: string;
}

/**
 * Accepts an order: prices snapshotted from the catalogue, the order and its first saga message
 * committed together with its idempotency key. A repeated request with the same key and body gets
 * the order as it was placed, again.
 */
export class PlaceOrder {
  readonly #transactions: OrderTransactions;
  readonly #idempotencyKeys: IdempotencyKeys;
  readonly #catalog: PriceCatalog;
  readonly #stepTimeoutMs: number;
  readonly #metrics: OrderMetrics;
  readonly #newId: () => string;
  readonly #now: () => Date;

  constructor(deps: {
    transactions: OrderTransactions; idempotencyKeys: IdempotencyKeys; catalog: PriceCatalog; stepTimeoutMs: number;
    metrics?: OrderMetrics; newId?: () => string; now?: () => Date;
  }) {
    this.#transactions = deps.transactions;
    this.#idempotencyKeys = deps.idempotencyKeys;
    this.#catalog = deps.catalog;
    this.#stepTimeoutMs = deps.stepTimeoutMs;
    this.#metrics = deps.metrics ?? noOrderMetrics;
    this.#newId = deps.newId ?? (() => `ord_${crypto.randomUUID()}`);
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(input: PlaceOrderInput): Promise<{ order: Order; replayed: boolean }> {
    validateOrderRequest(input);
    const claim = await this.#idempotencyKeys.claim(input.customer.id, input.idempotencyKey, input.requestHash);
    if (claim.kind === 'replay') return { order: claim.order, replayed: true };
    if (claim.kind === 'different-request') throw new IdempotencyKeyReusedError(input.idempotencyKey);
    if (claim.kind === 'in-progress') throw new IdempotencyKeyInUseError(input.idempotencyKey);
    try {
      const skus = input.items.map((item) => normaliseSku(item.sku));
      const products = await this.#catalog.findProducts(skus);
      const known = new Set(products.map((product) => normaliseSku(product.sku)));
      const unknown = skus.filter((sku) => !known.has(sku));
      if (unknown.length > 0) throw new UnknownSkuError(unknown);
      const order = placeOrder(input, products, this.#newId(), this.#now(), this.#stepTimeoutMs);
      await this.#transactions.run(async (store) => {
        await store.insert(order, [{ kind: 'start-step', step: 'reserve-stock' }]);
        await store.completeIdempotencyKey(input.customer.id, input.idempotencyKey, order);
      });
      this.#metrics.orderPlaced();
      return { order, replayed: false };
    } catch (error) {
      await this.#idempotencyKeys.release(input.customer.id, input.idempotencyKey);
      throw error;
    }
  }
}
