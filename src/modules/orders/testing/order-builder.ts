import { placeOrder, type Order, type OrderRequest, type PricedProduct } from '../domain/order.ts';

export const mugProduct: PricedProduct = { sku: 'MUG-1', name: 'Blue mug', price: { amount: 1299, currency: 'EUR' } };
export const teaProduct: PricedProduct = { sku: 'TEA-1', name: 'Green tea', price: { amount: 450, currency: 'EUR' } };

/** A valid order request for two mugs and a tea, paid with tok_visa; override what a test is about. */
export function anOrderRequest(overrides: Partial<OrderRequest> = {}): OrderRequest {
  return {
    customer: { id: 'cus_1', email: 'ada@example.com' },
    items: [{ sku: 'mug-1', quantity: 2 }, { sku: 'TEA-1', quantity: 1 }],
    paymentToken: 'tok_visa',
    ...overrides,
  };
}

/** A freshly placed order (PENDING, reserving stock). */
export function aPlacedOrder(now = new Date('2026-03-01T10:00:00Z'), stepTimeoutMs = 30_000): Order {
  return placeOrder(anOrderRequest(), [mugProduct, teaProduct], 'ord_1', now, stepTimeoutMs);
}
