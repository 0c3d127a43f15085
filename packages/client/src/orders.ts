import type { Client } from 'openapi-fetch';
import { unwrap } from './errors.ts';
import type { components, paths } from './openapi-types.ts';
import { items } from './pages.ts';
import { pollUntil, type WaitOptions } from './polling.ts';

export type Order = components['schemas']['Order'];
export type OrderStatus = Order['status'];
export type PlaceOrderRequest = components['schemas']['PlaceOrderRequest'];

/** The statuses an order never leaves. */
export const terminalOrderStatuses: readonly OrderStatus[] = ['CONFIRMED', 'CANCELLED'];

/** A new Idempotency-Key: one per logical order, to be sent again with every retry of that order. */
export function newIdempotencyKey(): string {
  return globalThis.crypto.randomUUID();
}

/**
 * Places an order. The Idempotency-Key (the caller's, else a new one) goes with every try, so a
 * retry after a lost answer or a 503 replays the first outcome instead of ordering twice; it is
 * answered too, for a caller who retries later by hand.
 */
export async function placeOrder(
  api: Client<paths>, order: PlaceOrderRequest, options: { idempotencyKey?: string } = {},
): Promise<{ order: Order; idempotencyKey: string }> {
  const idempotencyKey = options.idempotencyKey ?? newIdempotencyKey();
  const placed = await unwrap(api.POST('/v1/orders', { params: { header: { 'idempotency-key': idempotencyKey } }, body: order }));
  return { order: placed, idempotencyKey };
}

export async function getOrder(api: Client<paths>, id: string): Promise<Order> {
  return unwrap(api.GET('/v1/orders/{id}', { params: { path: { id } } }));
}

/** The caller's orders, newest first, every page. */
export function listOrders(api: Client<paths>, options: { limit?: number } = {}): AsyncGenerator<Order, void, undefined> {
  return items((cursor) => unwrap(api.GET('/v1/orders', { params: { query: { ...(cursor === undefined ? {} : { cursor }), ...options } } })));
}

export interface WaitForOrderOptions extends WaitOptions {
  /** `terminal` (CONFIRMED or CANCELLED, the default) or the statuses wanted. */
  until?: 'terminal' | OrderStatus | readonly OrderStatus[];
}

/**
 * Reads the order until its status is one of `until`, or terminal (a terminal order changes no
 * more, so waiting for CONFIRMED answers a CANCELLED order too: check its status).
 */
export async function waitForOrder(api: Client<paths>, id: string, options: WaitForOrderOptions = {}): Promise<Order> {
  const until = options.until ?? 'terminal';
  const wanted = new Set<OrderStatus>(until === 'terminal' ? terminalOrderStatuses : typeof until === 'string' ? [until] : until);
  return pollUntil(() => getOrder(api, id), (order) => wanted.has(order.status) || terminalOrderStatuses.includes(order.status), `order ${id} did not reach ${[...wanted].join(' or ')}`, options);
}
