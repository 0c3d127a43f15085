import { withTotal, type ScenarioResult } from './bench-result.ts';
import type { RequestKind } from './load-plan.ts';
import { countsBetween, databaseCounts, databaseLoadOf, drain, sampled, settle, warmedUp, type ScenarioContext } from './scenario-context.ts';
import { confirmationLatencies, floodErrors, httpErrors, loadData, loadDetails, pacedOrders, plan, refusedShareOf } from './scenario-load.ts';
import { percentiles, round } from './statistics.ts';

/** End-to-end orders per second: from the first order's creation to the last one's confirmation. */
function endToEndRate(outcomes: { confirmed: number; firstCreatedAtMs: number | null; lastConfirmedAtMs: number | null }): number {
  if (outcomes.firstCreatedAtMs === null || outcomes.lastConfirmedAtMs === null || outcomes.confirmed === 0) return 0;
  return round(outcomes.confirmed / Math.max(0.001, (outcomes.lastConfirmedAtMs - outcomes.firstCreatedAtMs) / 1000));
}

/**
 * `POST /v1/orders` as fast as the connections allow: accepted orders per second and their latency.
 * The sagas then drain; their count from the first order placed to the last confirmed gives the
 * end-to-end rate, which the saga scenario paces itself by.
 */
export async function placeOrder(context: ScenarioContext, name = 'place-order'): Promise<ScenarioResult> {
  await settle(context, name);
  const since = new Date();
  const before = await databaseCounts(context);
  const { value: result, resources, database: whilePlacing } = await warmedUp(context, name, plan(context, [{ kind: 'place-order', weight: 1 }], loadData(context.target)));
  const { drainSeconds, outcomes } = await drain(context, name, since);
  const confirmedWhilePlacing = await context.target.observer.confirmedBetween(new Date(result.startedAtMs), new Date(result.finishedAtMs));
  const { backlog } = await context.target.observer.settle(context.drainTimeoutSeconds * 1000, { jobs: false });
  await new Promise((resolve) => setTimeout(resolve, 1100)); // PostgreSQL's statistics trail by up to a second
  const counted = countsBetween(before, await databaseCounts(context));
  const endToEnd = endToEndRate(outcomes);
  const databaseLoad = databaseLoadOf(outcomes.total, counted, endToEnd, 'end to end');
  return {
    name: 'place-order', kind: 'scenario', metric: 'orders/s', throughput: round(result.ok / result.durationSeconds), latencyMs: result.latencyMs, ratio: null, databaseLoad,
    errors: withTotal({ ...floodErrors(result), unfinishedOrders: outcomes.unfinished, cancelledOrders: outcomes.cancelled, failedReplays: 0 }),
    durationSeconds: round(result.durationSeconds), warmUpSeconds: context.warmUpSeconds, connections: context.connections, resources,
    details: {
      ...loadDetails(result),
      refusedShare: refusedShareOf(result),
      ordersPlacedWithWarmUp: outcomes.total,
      endToEndOrdersPerSecond: endToEnd,
      completionsPerSecondWhilePlacing: round(confirmedWhilePlacing / result.durationSeconds),
      drainSeconds,
      committedTransactionsPerOrder: databaseLoad.commitsPerOrder,
      commitsPerSecondWhilePlacing: round(whilePlacing.commits / result.durationSeconds),
      statementsPerSecondWhilePlacing: whilePlacing.statements === null ? null : round(whilePlacing.statements / result.durationSeconds),
      backlogAfterDrain: backlog,
    },
  };
}

/**
 * Orders placed at a steady rate (an open loop, evenly spaced, not bursts per second) for the
 * duration: completions per second (orders reaching CONFIRMED within the window) and POST→CONFIRMED
 * latency, from when each POST was due to the order's confirmation time in the database.
 */
export async function saga(context: ScenarioContext, ratePerSecond: number, rateSearch: readonly RateProbe[] = []): Promise<ScenarioResult> {
  await settle(context, 'saga');
  const rate = Math.max(1, Math.round(ratePerSecond));
  const since = new Date();
  const sagaPlan = pacedOrders(context, rate);
  const { value: result, resources, database } = await warmedUp(context, `saga at ${rate} orders/s`, sagaPlan);
  const { drainSeconds, outcomes } = await drain(context, 'saga', since);
  const windowStart = new Date(result.startedAtMs);
  const windowEnd = new Date(result.finishedAtMs);
  const completed = await context.target.observer.confirmedBetween(windowStart, windowEnd);
  const latencies = await confirmationLatencies(context, result);
  const completionsPerSecond = completed / result.durationSeconds;
  if (completionsPerSecond < 0.9 * rate) {
    context.warn(`the saga did not keep up with ${rate} orders/s (${round(completionsPerSecond)} completed per second): its latency is mostly queueing; try --saga-rate`);
  }
  return {
    name: 'saga', kind: 'scenario', metric: 'completions/s', throughput: round(completionsPerSecond), latencyMs: percentiles(latencies), ratio: null,
    // Steady state: what the database did in the window is what the orders completed in it cost.
    databaseLoad: databaseLoadOf(completed, database, round(completionsPerSecond), 'completions in the measured window'),
    errors: withTotal({ ...httpErrors(result), unfinishedOrders: outcomes.unfinished, cancelledOrders: outcomes.cancelled, failedReplays: 0 }),
    durationSeconds: round(result.durationSeconds), warmUpSeconds: context.warmUpSeconds, connections: sagaPlan.connections, resources,
    details: {
      ...loadDetails(result),
      offeredOrdersPerSecond: rate,
      ...(rateSearch.length === 0 ? {} : { rateSearch }),
      acceptedOrdersPerSecond: round(result.ok / result.durationSeconds),
      postLatencyMs: result.latencyMs,
      confirmedInWindow: completed,
      ordersPlacedInWindow: result.placedOrders.length,
      stepTimesMs: await context.target.observer.stepTimes(result.placedOrders.map((order) => order.id)),
      drainSeconds,
    },
  };
}

/** One short saga run of the rate search. */
export interface RateProbe {
  rate: number;
  completionsPerSecond: number;
  p99Ms: number | null;
  /** Completions kept up (≥ 90% of the rate), POST→CONFIRMED p99 stayed under 1 s, and nothing failed or was refused. */
  kept: boolean;
}

/**
 * Finds the highest steady rate the saga keeps (p99 POST→CONFIRMED under 1 s, completions at least
 * 90% of the rate, no error or refusal) with short probes: from `startRate`, up by half while kept,
 * then halving the gap between the highest kept and the lowest not kept, at most `maxProbes` runs.
 */
export async function findSagaRate(context: ScenarioContext, startRate: number, maxProbes = 6): Promise<{ rate: number; probes: RateProbe[] }> {
  const probes: RateProbe[] = [];
  const quiet: ScenarioContext = { ...context, durationSeconds: Math.min(4, context.durationSeconds), warmUpSeconds: Math.min(1, context.warmUpSeconds), warn: context.log };
  let kept = 0;
  let notKept: number | undefined;
  let rate = Math.max(1, Math.round(startRate));
  while (probes.length < maxProbes) {
    const result = await saga(quiet, rate);
    const p99 = result.latencyMs?.p99 ?? null;
    const ok = result.errors.total === 0 && p99 !== null && p99 < 1000 && result.throughput >= 0.9 * rate;
    probes.push({ rate, completionsPerSecond: result.throughput, p99Ms: p99, kept: ok });
    context.log(`saga rate search: ${rate} orders/s ${ok ? 'kept' : 'not kept'} (${result.throughput} completions/s, p99 ${p99 ?? '?'} ms)`);
    if (ok) kept = rate;
    else notKept = rate;
    const next = notKept === undefined ? Math.ceil(rate * 1.5) : Math.round((kept + notKept) / 2);
    if (next <= kept || (notKept !== undefined && notKept - kept <= Math.max(2, kept * 0.1)) || next === rate) break;
    rate = Math.max(1, next);
  }
  return { rate: Math.max(1, kept), probes };
}

/**
 * Twice the saga's rate offered for the duration: completions per second, the share of POSTs
 * refused with 503 (admission control), POST→CONFIRMED of the accepted ones, and how many accepted
 * orders were unfinished when the offer stopped. Without admission the backlog and the latency grow
 * for as long as the offer lasts; with it they stay bounded.
 */
export async function overload(context: ScenarioContext, sagaRate: number, sagaCompletions: number): Promise<ScenarioResult> {
  await settle(context, 'overload');
  const rate = Math.max(2, Math.round(sagaRate * 2));
  const since = new Date();
  const overloadPlan = pacedOrders(context, rate);
  context.log(`overload at ${rate} orders/s: measuring for ${context.durationSeconds} s`);
  const before = await databaseCounts(context);
  const { value: result, resources } = await sampled(context, () => context.load.run(overloadPlan));
  const database = countsBetween(before, await databaseCounts(context));
  const atEnd = await context.target.observer.outcomes(since);
  const { drainSeconds, outcomes } = await drain(context, 'overload', since);
  const completed = await context.target.observer.confirmedBetween(new Date(result.startedAtMs), new Date(result.finishedAtMs));
  const latencies = await confirmationLatencies(context, result);
  const completionsPerSecond = completed / result.durationSeconds;
  return {
    name: 'overload', kind: 'scenario', metric: 'completions/s', throughput: round(completionsPerSecond), latencyMs: percentiles(latencies), ratio: null,
    databaseLoad: databaseLoadOf(completed, database, round(completionsPerSecond), 'completions in the measured window'),
    errors: withTotal({ ...floodErrors(result), unfinishedOrders: outcomes.unfinished, cancelledOrders: outcomes.cancelled, failedReplays: 0 }),
    durationSeconds: round(result.durationSeconds), warmUpSeconds: 0, connections: overloadPlan.connections, resources,
    details: {
      ...loadDetails(result),
      offeredOrdersPerSecond: rate,
      acceptedOrdersPerSecond: round(result.ok / result.durationSeconds),
      refusedShare: refusedShareOf(result),
      refusedWithRetryAfter: result.refusedWithRetryAfter,
      completionsShareOfSaga: sagaCompletions <= 0 ? null : round(completionsPerSecond / sagaCompletions),
      postLatencyMs: result.latencyMs,
      unfinishedAtEnd: atEnd.unfinished,
      drainSeconds,
    },
  };
}

/** 70 % catalogue reads, 20 % orders, 10 % reads of the customer's own orders, as fast as the connections allow. */
export async function mixed(context: ScenarioContext): Promise<ScenarioResult> {
  await settle(context, 'mixed');
  const { target } = context;
  const tokenOf = new Map(target.customers.map((customer) => [customer.id, customer.token]));
  const known = await target.observer.ordersOf(target.customers.map((customer) => customer.id), 50);
  const ownOrders = known.flatMap(({ customerId, orderId }) => {
    const token = tokenOf.get(customerId);
    return token === undefined ? [] : [{ token, orderId }];
  });
  const since = new Date();
  const mix: { kind: RequestKind; weight: number }[] = [{ kind: 'catalog-read', weight: 70 }, { kind: 'place-order', weight: 20 }, { kind: 'own-order-read', weight: 10 }];
  const { value: result, resources } = await warmedUp(context, 'mixed', plan(context, mix, loadData(target, ownOrders.length > 0 ? ownOrders : target.setupOrders)));
  const { drainSeconds, outcomes } = await drain(context, 'mixed', since);
  return {
    name: 'mixed', kind: 'scenario', metric: 'req/s', throughput: round(result.ok / result.durationSeconds), latencyMs: result.latencyMs, ratio: null, databaseLoad: null,
    errors: withTotal({ ...floodErrors(result), unfinishedOrders: outcomes.unfinished, cancelledOrders: outcomes.cancelled, failedReplays: 0 }),
    durationSeconds: round(result.durationSeconds), warmUpSeconds: context.warmUpSeconds, connections: context.connections, resources,
    details: {
      ...loadDetails(result), byKind: result.byKind,
      refusedShare: refusedShareOf(result),
      ordersPlacedWithWarmUp: outcomes.total, drainSeconds,
    },
  };
}
