import { IdempotencyKeyInUseError, IdempotencyKeyReusedError } from './idempotency.errors.ts';
import { UnknownSkuError } from '../domain/order.errors.ts';
import { normaliseSku, placeOrder, validateOrderRequest, type Order, type OrderRequest } from '../domain/order.ts';
import type { OrderAdmission } from './order-admission.ts';
import type { IdempotencyKeyAnswer, IdempotencyKeys, OrderMetrics, OrderTransactions, PriceCatalog } from './ports.ts';
import { noOrderMetrics } from './report-transition.ts';

export interface PlaceOrderInput extends OrderRequest {
  idempotencyKey: string;
  /** A digest of the request body: the same key with another body is refused. */
  requestHash: string;
}

/**
 * Accepts an order: prices snapshotted from the catalogue, the order and its first saga message
 * committed together with its idempotency key. A repeated request with the same key and body gets
 * the order as it was placed, again; one key never places two orders, even when a stalled request's
 * claim was taken over by a retry. While the backlog of unfinished orders is at its limit a new
 * order is refused (`OrderBacklogFullError`) before anything is written, its key not even claimed, so
 * a retry with the same key later is placed as usual; a key already done with still answers as it says.
 */
export class PlaceOrder {
  readonly #transactions: OrderTransactions;
  readonly #idempotencyKeys: IdempotencyKeys;
  readonly #catalog: PriceCatalog;
  readonly #stepTimeoutMs: number;
  readonly #metrics: OrderMetrics;
  readonly #admission: OrderAdmission | undefined;
  readonly #newId: () => string;
  readonly #now: () => Date;

  constructor(deps: {
    transactions: OrderTransactions; idempotencyKeys: IdempotencyKeys; catalog: PriceCatalog; stepTimeoutMs: number;
    metrics?: OrderMetrics; newId?: () => string; now?: () => Date;
    /** Refuses new orders while the backlog is at its limit; without it every order is admitted. */
    admission?: OrderAdmission;
  }) {
    this.#transactions = deps.transactions;
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
    const claimed = await this.#idempotencyKeys.claim(input.customer.id, input.idempotencyKey, input.requestHash);
    if (claimed.kind !== 'claimed') return answerAsTheKeySays(claimed, input.idempotencyKey);
    const { claim } = claimed;
    try {
      const skus = input.items.map((item) => normaliseSku(item.sku));
      const products = await this.#catalog.findProducts(skus);
      const known = new Set(products.map((product) => normaliseSku(product.sku)));
      const unknown = skus.filter((sku) => !known.has(sku));
      if (unknown.length > 0) throw new UnknownSkuError(unknown);
      const order = placeOrder(input, products, this.#newId(), this.#now(), this.#stepTimeoutMs);
      await this.#transactions.run(async (store) => {
        await store.insert(order, [{ kind: 'start-step', step: 'reserve-stock' }]);
        // Stalled past the takeover time, this request lost the key to a retry: its order must not commit beside the retry's.
        if (!(await store.completeIdempotencyKey(claim, order))) throw new ClaimTakenOverError();
      });
      this.#admission?.placed();
      this.#metrics.orderPlaced();
      return { order, replayed: false };
    } catch (error) {
      if (error instanceof ClaimTakenOverError) {
        const current = await this.#idempotencyKeys.lookUp(input.customer.id, input.idempotencyKey, input.requestHash);
        return answerAsTheKeySays(current ?? { kind: 'in-progress' }, input.idempotencyKey);
      }
      await this.#idempotencyKeys.release(claim);
      throw error;
    }
  }
}

/** Rolls back the order of a request whose idempotency claim is no longer its own. */
class ClaimTakenOverError extends Error {}

/**
 * The answer to a request that does not hold its key: the order placed under it, or why not. A key
 * no request holds any more (its new holder failed) is answered as in progress, and a retry claims it.
 */
function answerAsTheKeySays(answer: IdempotencyKeyAnswer, key: string): { order: Order; replayed: true } {
  if (answer.kind === 'replay') return { order: answer.order, replayed: true };
  if (answer.kind === 'different-request') throw new IdempotencyKeyReusedError(key);
  throw new IdempotencyKeyInUseError(key);
}
