import { multiply, sum, type Money } from './money.ts';
import { InvalidOrderError } from './order.errors.ts';

/** Public lifecycle of an order. CONFIRMED and CANCELLED are terminal (a confirmed order can still be cancelled with a refund). */
export type OrderStatus = 'PENDING' | 'RESERVED' | 'AUTHORIZED' | 'CONFIRMED' | 'CANCELLING' | 'CANCELLED';

/** A forward step of the fulfilment saga, in the order they run. */
export type SagaStep = 'reserve-stock' | 'authorize-payment' | 'capture-payment' | 'commit-stock';

/** What undoes a step that may have taken effect. */
export type Compensation = 'release-stock' | 'void-payment' | 'refund-payment' | 'restock';

export interface Customer {
  readonly id: string;
  readonly email: string;
}

export interface OrderLine {
  readonly sku: string;
  readonly name: string;
  readonly quantity: number;
  readonly unitPrice: Money;
  readonly lineTotal: Money;
}

/** One thing that happened to the order, shown to its owner. */
export interface TimelineEntry {
  readonly step: string;
  readonly at: Date;
  readonly detail?: string;
}

export interface Order {
  readonly id: string;
  readonly customer: Customer;
  readonly lines: readonly OrderLine[];
  readonly total: Money;
  readonly paymentToken: string;
  readonly status: OrderStatus;
  /** Forward steps started so far, oldest first; what a cancellation may have to undo. */
  readonly startedSteps: readonly SagaStep[];
  /** The forward step in flight, awaited until `stepDeadline`. */
  readonly currentStep: SagaStep | null;
  /** Until when the step in flight, or while CANCELLING the pending compensations, are awaited; null only once terminal. */
  readonly stepDeadline: Date | null;
  /** Compensations sent and not yet acknowledged; the order is CANCELLED when none is left. */
  readonly pendingCompensations: readonly Compensation[];
  readonly cancellationReason: string | null;
  readonly refunded: Money | null;
  readonly timeline: readonly TimelineEntry[];
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly version: number;
}

/** A catalogue product as priced at placement time. */
export interface PricedProduct {
  readonly sku: string;
  readonly name: string;
  readonly price: Money;
}

export interface OrderRequest {
  readonly customer: Customer;
  readonly items: readonly { sku: string; quantity: number }[];
  readonly paymentToken: string;
}

export const maxLines = 50;
export const maxQuantity = 1000;
const tokenPattern = /^tok_[A-Za-z0-9_]{1,64}$/;

/** SKUs as the catalogue and inventory spell them. */
export function normaliseSku(sku: string): string {
  return sku.trim().toUpperCase();
}

/** Checks the request's shape rules before anything is looked up. */
export function validateOrderRequest(request: OrderRequest): void {
  if (request.items.length === 0) throw new InvalidOrderError('items', 'must not be empty');
  if (request.items.length > maxLines) throw new InvalidOrderError('items', `must have at most ${maxLines} lines`);
  const seen = new Set<string>();
  request.items.forEach((item, index) => {
    if (!Number.isInteger(item.quantity) || item.quantity < 1 || item.quantity > maxQuantity) {
      throw new InvalidOrderError(`items.${index}.quantity`, `must be a whole number from 1 to ${maxQuantity}`);
    }
    const sku = normaliseSku(item.sku);
    if (seen.has(sku)) throw new InvalidOrderError(`items.${index}.sku`, `lists ${sku} twice; put the quantities on one line`);
    seen.add(sku);
  });
  if (!tokenPattern.test(request.paymentToken)) throw new InvalidOrderError('payment.token', 'must be a payment token such as tok_visa');
}

/**
 * Accepts an order at the prices given (snapshotted from the catalogue) and starts its saga with the
 * first step. Callers validate the request first; unknown SKUs are reported by the caller.
 */
export function placeOrder(request: OrderRequest, products: readonly PricedProduct[], id: string, now: Date, stepTimeoutMs: number): Order {
  validateOrderRequest(request);
  const bySku = new Map(products.map((product) => [normaliseSku(product.sku), product]));
  const lines = request.items.map((item, index): OrderLine => {
    const product = bySku.get(normaliseSku(item.sku));
    if (product === undefined) throw new InvalidOrderError(`items.${index}.sku`, 'is not in the catalogue');
    return { sku: normaliseSku(item.sku), name: product.name, quantity: item.quantity, unitPrice: product.price, lineTotal: multiply(product.price, item.quantity) };
  });
  return {
    id,
    customer: request.customer,
    lines,
    total: sum(lines.map((line) => line.lineTotal)),
    paymentToken: request.paymentToken,
    status: 'PENDING',
    startedSteps: ['reserve-stock'],
    currentStep: 'reserve-stock',
    stepDeadline: new Date(now.getTime() + stepTimeoutMs),
    pendingCompensations: [],
    cancellationReason: null,
    refunded: null,
    timeline: [{ step: 'placed', at: now }],
    createdAt: now,
    updatedAt: now,
    version: 1,
  };
}
