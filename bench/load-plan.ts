import { randomUUID } from 'node:crypto';
import type { Percentiles } from './statistics.ts';

/** The kinds of request a scenario sends. */
export type RequestKind = 'catalog-read' | 'place-order' | 'own-order-read' | 'sign-in';

/** What the load generator is asked to send, as plain data (it crosses a process boundary). */
export interface LoadPlan {
  /** Base URL of the server under load. */
  url: string;
  connections: number;
  durationSeconds: number;
  /**
   * Open loop: requests start at this many per second, evenly spaced, whether or not earlier ones
   * were answered (latency counts from when a request was due). Unset: closed loop, each connection
   * sends its next request as soon as the previous one is answered.
   */
  ratePerSecond?: number;
  mix: readonly { kind: RequestKind; weight: number }[];
  data: LoadData;
  /** Return the id and due time of every accepted order (open loop only). */
  recordOrders?: boolean;
}

/** Ids and tokens requests are drawn from. */
export interface LoadData {
  productIds: readonly string[];
  skus: readonly string[];
  /** Customers' bearer tokens. */
  tokens: readonly string[];
  /** Orders with their owner's token, for own-order reads. */
  ownOrders: readonly { token: string; orderId: string }[];
  /** Customers' email and password, for sign-ins. */
  credentials?: readonly { email: string; password: string }[];
}

/** What one kind of request got. */
export interface KindResult {
  answered: number;
  non2xx: number;
  /** Latency of 2xx answers. */
  latencyMs: Percentiles;
}

/** What the load generator measured. */
export interface LoadResult {
  startedAtMs: number;
  finishedAtMs: number;
  durationSeconds: number;
  answered: number;
  ok: number;
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  timeouts: number;
  /** Requests due but never sent because too many were already waiting (open loop only). */
  dropped: number;
  statusCodes: Record<string, number>;
  /** 503 answers that carried Retry-After (open loop only: the closed loop does not see headers). */
  refusedWithRetryAfter: number;
  latencyMs: Percentiles;
  byKind: Partial<Record<RequestKind, KindResult>>;
  /** A few non-2xx answers, to say what went wrong. */
  failureSamples: string[];
  placedOrders: { id: string; dueAtMs: number }[];
}

/** One request, ready to send. */
export interface BenchRequest {
  kind: RequestKind;
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** Draws requests of the plan's mix: ids spread over the catalogue, a fresh Idempotency-Key per order. */
export function requestSource(plan: Pick<LoadPlan, 'mix' | 'data'>): () => BenchRequest {
  const { data } = plan;
  const total = plan.mix.reduce((sum, entry) => sum + entry.weight, 0);
  const pick = <T>(items: readonly T[]): T => {
    const item = items[Math.floor(Math.random() * items.length)];
    if (item === undefined) throw new Error('nothing to draw a request from');
    return item;
  };
  const kindOf = (): RequestKind => {
    let draw = Math.random() * total;
    for (const entry of plan.mix) {
      draw -= entry.weight;
      if (draw < 0) return entry.kind;
    }
    return pick(plan.mix).kind;
  };
  return (): BenchRequest => {
    const kind = kindOf();
    switch (kind) {
      case 'catalog-read':
        return { kind, method: 'GET', path: `/v1/products/${pick(data.productIds)}`, headers: { authorization: `Bearer ${pick(data.tokens)}` } };
      case 'sign-in':
        return {
          kind, method: 'POST', path: '/v1/auth/login', headers: { 'content-type': 'application/json' },
          body: JSON.stringify(pick(data.credentials ?? [])),
        };
      case 'own-order-read': {
        const order = pick(data.ownOrders);
        return { kind, method: 'GET', path: `/v1/orders/${order.orderId}`, headers: { authorization: `Bearer ${order.token}` } };
      }
      case 'place-order': {
        const lines = 1 + Math.floor(Math.random() * 3);
        const skus = new Set<string>();
        while (skus.size < Math.min(lines, data.skus.length)) skus.add(pick(data.skus));
        return {
          kind, method: 'POST', path: '/v1/orders',
          headers: { authorization: `Bearer ${pick(data.tokens)}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
          body: JSON.stringify({ items: [...skus].map((sku) => ({ sku, quantity: 1 + Math.floor(Math.random() * 2) })), payment: { token: 'tok_visa' } }),
        };
      }
    }
  };
}
