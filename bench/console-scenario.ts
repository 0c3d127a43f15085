import { sql } from 'kysely';
import { createDatabase } from '../src/platform/database/database.ts';
import { withTotal, type ScenarioResult } from './bench-result.ts';
import { consoleCustomerEmail, fillConsoleOrders } from './console-orders.ts';
import { sampled, settle, type ScenarioContext } from './scenario-context.ts';
import { percentiles, round, type Percentiles } from './statistics.ts';

/** Orders in the database while the console's reads are measured (issue 21's figure). */
export const consoleOrders = 100_000;
/** What each read of the overview and order pages must stay under (server time, issue 21). */
export const consoleTargetMs = 200;
/** Rounds of every read measured per second of `--duration` (60 at the default 10 s), after `consoleWarmUpRounds` discarded ones. */
const consoleRoundsPerSecond = 6;
const consoleWarmUpRounds = 5;
const hourMs = 3_600_000;

/** One read of the operations console: what the report calls it, and its path. */
export interface ConsoleRead {
  name: string;
  path: string;
}

/** What the console's reads ask for: orders that went through the real saga (with payments and emails), a busy customer, SKUs, a time range. */
export interface ConsoleSample {
  orderIds: readonly string[];
  email: string;
  commonSku: string;
  rareSku: string;
  from: Date;
  to: Date;
}

/**
 * The reads the overview and order pages make, once each: the summary; the orders list's first
 * page, alone and by each filter; one order with its payment operations and email deliveries (the
 * order picked by `round`, so rounds spread over the sample's orders).
 */
export function consoleReads(sample: ConsoleSample, round: number): ConsoleRead[] {
  const orderId = sample.orderIds[round % sample.orderIds.length] ?? 'ord_none';
  const list = (query: string) => `/v1/admin/orders?limit=50${query}`;
  const q = encodeURIComponent;
  return [
    { name: 'summary', path: '/v1/admin/summary' },
    { name: 'orders', path: list('') },
    { name: 'orders?status', path: list('&status=CANCELLED') },
    { name: 'orders?email', path: list(`&email=${q(sample.email)}`) },
    { name: 'orders?sku (common)', path: list(`&sku=${q(sample.commonSku)}`) },
    { name: 'orders?sku (rare)', path: list(`&sku=${q(sample.rareSku)}`) },
    { name: 'orders?from&to', path: list(`&from=${q(sample.from.toISOString())}&to=${q(sample.to.toISOString())}`) },
    { name: 'order', path: `/v1/orders/${q(orderId)}` },
    { name: 'payment-operations?orderId', path: `/v1/admin/payment-operations?orderId=${q(orderId)}` },
    { name: 'email-deliveries?orderId', path: `/v1/admin/email-deliveries?orderId=${q(orderId)}` },
  ];
}

/** One measured read: how long it took and how it was answered (0: not answered). */
export interface TimedRead {
  name: string;
  ms: number;
  status: number;
}

/** The console's reads summed up: percentiles per read (in the order first met), the slowest by p95, and whether every p95 is under the target. */
export interface ConsoleReadSummary {
  byRead: Record<string, Percentiles & { count: number }>;
  slowest: { name: string; p95: number } | null;
  withinTarget: boolean;
  /** Reads not answered 2xx, which count as errors and not as durations. */
  failed: number;
}

/** Sums up timed reads against `targetMs`; failed reads are counted apart, not timed. */
export function summariseConsoleReads(timed: readonly TimedRead[], targetMs: number): ConsoleReadSummary {
  const durations = new Map<string, number[]>();
  let failed = 0;
  for (const read of timed) {
    if (read.status < 200 || read.status > 299) {
      failed += 1;
      continue;
    }
    const list = durations.get(read.name) ?? [];
    list.push(read.ms);
    durations.set(read.name, list);
  }
  const byRead: ConsoleReadSummary['byRead'] = {};
  let slowest: ConsoleReadSummary['slowest'] = null;
  for (const [name, values] of durations) {
    const figures = percentiles(values);
    byRead[name] = { ...figures, count: values.length };
    if (slowest === null || figures.p95 > slowest.p95) slowest = { name, p95: figures.p95 };
  }
  return { byRead, slowest, withinTarget: slowest !== null && slowest.p95 < targetMs && failed === 0, failed };
}

/**
 * Fills the orders schema with the console's orders (`consoleOrders` of them, spread as `fillConsoleOrders`
 * says, around `now`) unless an earlier scenario of the run did; answers the seconds the fill took,
 * or null when the orders were there already.
 */
export async function fillConsoleOrdersOnce(context: ScenarioContext, scenario: string, now: Date): Promise<number | null> {
  const { target, log } = context;
  // One statement writes every order: on a busy machine that takes longer than an application's statement may.
  const db = createDatabase({ url: target.ceilingDatabaseUrl, poolSize: 1, applicationName: 'orderstream-bench-console', limits: { statementTimeoutMs: 600_000 } });
  try {
    const filled = await sql<{ count: number }>`select count(*)::int as count from orders.orders where id like 'ord_console_%'`.execute(db);
    if ((filled.rows[0]?.count ?? 0) > 0) {
      log(`${scenario}: the orders schema already holds the ${consoleOrders.toLocaleString('en-US')} filled orders`);
      return null;
    }
    const fillStarted = performance.now();
    log(`${scenario}: filling the orders schema with ${consoleOrders.toLocaleString('en-US')} orders`);
    await fillConsoleOrders(db, { orders: consoleOrders, customers: 3000, skus: target.skus, unfinished: 60, lastHourShare: 0.1, cancelledShare: 0.05, now });
    return round((performance.now() - fillStarted) / 1000);
  } finally {
    await db.destroy();
  }
}

/**
 * The operations console's reads with 100,000 orders in the database: fills the orders schema
 * straight in SQL (a week of orders from 3,000 customers over the catalogue's SKUs, the last hour
 * busy, a few dozen unfinished), then makes every read of the overview and order pages one at a
 * time as the admin, through the edge, round after round (6 rounds per second of the run's
 * duration). Each read's time is its request's duration seen by the harness over loopback (from sending it to
 * reading its body), which bounds the server's time from above. Run after the scenarios that place
 * orders: the filled orders would stand in their way.
 */
export async function consoleReadsScenario(context: ScenarioContext): Promise<ScenarioResult> {
  await settle(context, 'console');
  const { target, log } = context;
  const now = new Date();
  const fillSeconds = await fillConsoleOrdersOnce(context, 'console', now);
  const sample: ConsoleSample = {
    orderIds: target.setupOrders.map((order) => order.orderId), email: consoleCustomerEmail(17),
    commonSku: target.skus[0] ?? '', rareSku: target.skus.at(-1) ?? '', from: new Date(now.getTime() - 3 * hourMs), to: new Date(now.getTime() - 2 * hourMs),
  };
  const read = async (one: ConsoleRead): Promise<TimedRead> => {
    const started = performance.now();
    try {
      const response = await fetch(`${target.baseUrl}${one.path}`, { headers: { authorization: `Bearer ${target.adminToken}` }, signal: AbortSignal.timeout(10_000) });
      await response.arrayBuffer();
      return { name: one.name, ms: performance.now() - started, status: response.status };
    } catch {
      return { name: one.name, ms: performance.now() - started, status: 0 };
    }
  };
  const consoleRounds = Math.max(consoleWarmUpRounds, Math.round(context.durationSeconds * consoleRoundsPerSecond));
  log(`console: ${consoleWarmUpRounds} warm-up rounds, then ${consoleRounds} measured rounds of ${consoleReads(sample, 0).length} reads, one at a time`);
  for (let round = 0; round < consoleWarmUpRounds; round += 1) for (const one of consoleReads(sample, round)) await read(one);
  const started = performance.now();
  const { value: timed, resources } = await sampled(context, async () => {
    const all: TimedRead[] = [];
    for (let round = 0; round < consoleRounds; round += 1) for (const one of consoleReads(sample, round)) all.push(await read(one));
    return all;
  });
  const seconds = (performance.now() - started) / 1000;
  const summary = summariseConsoleReads(timed, consoleTargetMs);
  const answered = timed.filter((one) => one.status !== 0);
  return {
    name: 'console', kind: 'scenario', metric: 'req/s', throughput: round(answered.length / seconds),
    latencyMs: percentiles(timed.filter((one) => one.status >= 200 && one.status <= 299).map((one) => one.ms)), ratio: null, databaseLoad: null,
    errors: withTotal({
      non2xx: answered.length - timed.filter((one) => one.status >= 200 && one.status <= 299).length, connectionErrors: timed.length - answered.length,
      timeouts: 0, dropped: 0, unfinishedOrders: 0, cancelledOrders: 0, failedReplays: 0,
    }),
    durationSeconds: round(seconds), warmUpSeconds: 0, connections: 1, resources,
    details: {
      orders: consoleOrders, fillSeconds, rounds: consoleRounds, targetMs: consoleTargetMs,
      measuredAs: 'request duration seen by the harness over loopback, one request at a time (an upper bound of server time)',
      reads: summary.byRead, slowestRead: summary.slowest?.name ?? null, slowestP95Ms: summary.slowest?.p95 ?? null, withinTarget: summary.withinTarget,
    },
  };
}
