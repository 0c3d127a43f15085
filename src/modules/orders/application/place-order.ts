import { IdempotencyKeyInUseError, IdempotencyKeyReusedError } from './idempotency.errors.ts';
import { UnknownSkuError } from '../domain/order.errors.ts';
import { normaliseSku, placeOrder, validateOrderRequest, type Order, type OrderRequest } from '../domain/order.ts';
import type { OrderAdmission } from './order-admission.ts';
import type { IdempotencyKeyAnswer, IdempotencyKeys, OrderMetrics, PriceCatalog } from './ports.ts';
import { noOrderMetrics } from './report-transition.ts';

export interface PlaceOrderInput extends OrderRequest {
  idempotencyKey: string;
  /** A digest of the request body: the same key with another body is refused. */
  requestHash: string;
}

/**
 * Accepts an order: prices snapshotted from the catalogue, then the order, its first saga message
 * and its idempotency key committed together by one statement. A repeated request with the same key
 * and body gets the order as it was placed, again (one that arrives while the first is being placed
 * waits for it); one key never places two orders. While the backlog of unfinished orders is at its
 * limit a new order is refused (`OrderBacklogFullError`) before anything is written, so a retry with
 * the same key later is placed as usual; a key already done with still answers as it says.
 */
export class PlaceOrder {
  readonly #idempotencyKeys: IdempotencyKeys;
  readonly #catalog: PriceCatalog;
  readonly #stepTimeoutMs: number;
  readonly #metrics: OrderMetrics;
  readonly #admission: OrderAdmission | undefined;
  readonly #newId: () => string;
  readonly #now: () => Date;

  constructor(deps: {
    idempotencyKeys: IdempotencyKeys; catalog: PriceCatalog; stepTimeoutMs: number;
    metrics?: OrderMetrics; newId?: () => string; now?: () => Date;
    /** Refuses new orders while the backlog is at its limit; without it every order is admitted. */
    admission?: OrderAdmission;
  }) {
    this.#idempotencyKeys = deps.idempotencyKeys;
    this.#catalog = deps.catalog;
    this.#stepTimeoutMs = deps.stepTimeoutMs;
    this.#metrics = deps.metrics ?? noOrderMetrics;
    this.#admission = deps.admission;
    this.#newId = deps.newId ?? (() => `ord_${crypto.randomUUID()}`);
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(input: PlaceOrderInput): Promise<{ order: Order; replayed: boolean }> {
    validateOrderRequest(input);
    const refusal = this.#admission?.refusal();
    if (refusal !== undefined) {
      // Read only: a replay costs the sagas nothing, and the client that placed its order is told so.
      const answer = await this.#idempotencyKeys.lookUp(input.customer.id, input.idempotencyKey, input.requestHash);
      if (answer !== undefined) return answerAsTheKeySays(answer, input.idempotencyKey);
      this.#metrics.orderRefused();
      throw refusal;
    }
    let order: Order;
    try {
      order = await this.#price(input);
    } catch (error) {
      // A key done with answers as it says even when the order could not be priced again (a product
      // removed since, the catalogue down).
      const answer = await this.#idempotencyKeys.lookUp(input.customer.id, input.idempotencyKey, input.requestHash).catch(() => undefined);
      if (answer !== undefined) return answerAsTheKeySays(answer, input.idempotencyKey);
      throw error;
    }
    const request = { customerId: input.customer.id, key: input.idempotencyKey, requestHash: input.requestHash };
    for (let attempt = 0; attempt < 3; attempt += 1) {
      if (await this.#idempotencyKeys.placeUnderKey(order, request, [{ kind: 'start-step', step: 'reserve-stock' }])) {
        this.#admission?.placed();
        this.#metrics.orderPlaced();
        return { order, replayed: false };
      }
      const answer = await this.#idempotencyKeys.lookUp(input.customer.id, input.idempotencyKey, input.requestHash);
      if (answer !== undefined) return answerAsTheKeySays(answer, input.idempotencyKey);
      // The key expired between the two statements: place again.
    }
    return answerAsTheKeySays({ kind: 'in-progress' }, input.idempotencyKey);
  }

  /** The order the request describes, priced from the catalogue as it is now. */
  async #price(input: PlaceOrderInput): Promise<Order> {
    const skus = input.items.map((item) => normaliseSku(item.sku));
    const products = await this.#catalog.findProducts(skus);
    const known = new Set(products.map((product) => normaliseSku(product.sku)));
    const unknown = skus.filter((sku) => !known.has(sku));
    if (unknown.length > 0) throw new UnknownSkuError(unknown);
    return placeOrder(input, products, this.#newId(), this.#now(), this.#stepTimeoutMs);
  }
}

/** The answer to a request whose key was taken: the order placed under it, or why not. */
function answerAsTheKeySays(answer: IdempotencyKeyAnswer, key: string): { order: Order; replayed: true } {
  if (answer.kind === 'replay') return { order: answer.order, replayed: true };
  if (answer.kind === 'different-request') throw new IdempotencyKeyReusedError(key);
  throw new IdempotencyKeyInUseError(key);
}
