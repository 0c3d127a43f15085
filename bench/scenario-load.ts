import type { BenchTarget } from './bench-environment.ts';
import type { LoadData, LoadPlan, LoadResult } from './load-plan.ts';
import type { ScenarioContext } from './scenario-context.ts';
import { round } from './statistics.ts';

/** What the load generator's requests are made of: the seeded products and customers, and orders to read back. */
export function loadData(target: BenchTarget, ownOrders: LoadData['ownOrders'] = target.setupOrders): LoadData {
  return {
    productIds: target.productIds, skus: target.skus, tokens: target.customers.map((customer) => customer.token), ownOrders,
    credentials: target.customers.map(({ email, password }) => ({ email, password })),
  };
}

/** A load plan against OrderStream with the run's connections and duration, `extra` overriding them. */
export function plan(context: ScenarioContext, mix: LoadPlan['mix'], data: LoadData, extra: Partial<LoadPlan> = {}): LoadPlan {
  return { url: context.target.baseUrl, connections: context.connections, durationSeconds: context.durationSeconds, mix, data, ...extra };
}

/** A POST of an order answers within about 40 ms under load: what one connection carries at a steady pace. */
const pacedRequestsPerConnection = 25;

/**
 * Orders offered at a steady pace: with at least the connections that pace needs (`--connections`
 * sizes the closed-loop floods; a pace above what they carry would queue in the load generator and
 * then be dropped, measuring the generator instead of OrderStream).
 */
export function pacedOrders(context: ScenarioContext, ratePerSecond: number): LoadPlan {
  return plan(context, [{ kind: 'place-order', weight: 1 }], loadData(context.target), {
    ratePerSecond, recordOrders: true, connections: Math.max(context.connections, Math.ceil(ratePerSecond / pacedRequestsPerConnection)),
  });
}

/** The HTTP errors of a run in which every non-2xx answer is one. */
export function httpErrors(result: LoadResult) {
  return { non2xx: result.non2xx, connectionErrors: result.errors, timeouts: result.timeouts, dropped: result.dropped };
}

/** 503s of a closed-loop flood with orders in it: admission refusing orders past the backlog bound, by design, not errors. */
function refusedOf(result: LoadResult): number {
  return result.statusCodes['503'] ?? 0;
}

/** The share of a flood's answers that were admission refusals. */
export function refusedShareOf(result: LoadResult): number {
  return result.answered === 0 ? 0 : round(refusedOf(result) / result.answered);
}

/** POST→CONFIRMED of the orders a paced run placed that were confirmed: from when each POST was due to its confirmation. */
export async function confirmationLatencies(context: ScenarioContext, result: LoadResult): Promise<number[]> {
  const statuses = await context.target.observer.statusOf(result.placedOrders.map((order) => order.id));
  const latencies: number[] = [];
  for (const order of result.placedOrders) {
    const status = statuses.get(order.id);
    if (status?.status === 'CONFIRMED') latencies.push(status.updatedAtMs - order.dueAtMs);
  }
  return latencies;
}

/** The HTTP errors of a flood of orders, where a 503 refusal is the system working as designed. */
export function floodErrors(result: LoadResult) {
  return { ...httpErrors(result), non2xx: result.non2xx - refusedOf(result) };
}

/** The details every load scenario reports: answers, status codes, and samples of the failures when there were any. */
export function loadDetails(result: LoadResult): Record<string, unknown> {
  return {
    requests: result.answered, statusCodes: result.statusCodes,
    ...(result.failureSamples.length === 0 ? {} : { failureSamples: result.failureSamples }),
  };
}
