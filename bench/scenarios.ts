import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { withTotal, type DatabaseLoad, type ScenarioResult } from './bench-result.ts';
import { observerApplication, type BenchTarget } from './bench-environment.ts';
import { measurePrimitiveCeiling, planReplay, replayOrders, type PrimitiveOperation, type ReplayPlan } from './database-ceiling.ts';
import type { LoadGeneratorProcess } from './load-generator-process.ts';
import type { LoadData, LoadPlan, LoadResult, RequestKind } from './load-plan.ts';
import { countOrderStatements, selectOrderUnits, tokensIn, type OrderStatementCounts } from './order-statements.ts';
import { ResourceSampler, type ResourceUsage } from './resource-sampler.ts';
import { StatementCapture, type StatementCounter } from './statement-capture.ts';
import { percentiles, round } from './statistics.ts';

/** What every scenario runs with. */
export interface ScenarioContext {
  target: BenchTarget;
  load: LoadGeneratorProcess;
  durationSeconds: number;
  warmUpSeconds: number;
  connections: number;
  drainTimeoutSeconds: number;
  log: (line: string) => void;
  /** Noted in the report without failing the run. */
  warn: (line: string) => void;
  /** Counts the statements OrderStream sends while scenarios run; unset in the services shape, whose clients are other processes. */
  statements?: StatementCounter | undefined;
}

/** Committed transactions (every observed database) and statements (when counted) so far. */
async function databaseCounts(context: ScenarioContext): Promise<{ commits: number; statements: number | null }> {
  return { commits: await context.target.observer.commits(), statements: context.statements?.read().statements ?? null };
}

/** What happened between two `databaseCounts`. */
function countsBetween(before: { commits: number; statements: number | null }, after: { commits: number; statements: number | null }) {
  return { commits: after.commits - before.commits, statements: before.statements === null || after.statements === null ? null : after.statements - before.statements };
}

/** A scenario's database load per order, the shares of the ceilings left for `compareWithCeilings` to fill in. */
function databaseLoadOf(orders: number, counted: { commits: number; statements: number | null }, ordersPerSecond: number, ordersBasis: DatabaseLoad['ordersBasis']): DatabaseLoad {
  return {
    ordersPerSecond, ordersBasis,
    commitsPerOrder: orders === 0 ? null : round(counted.commits / orders),
    statementsPerOrder: orders === 0 || counted.statements === null ? null : round(counted.statements / orders),
    commitsPerSecond: null, statementsPerSecond: null, commitCeilingShare: null, statementCeilingShare: null, replayShare: null,
  };
}

/**
 * Runs `work` while sampling every process's CPU and memory. `app` is OrderStream, or, for the HTTP
 * ceiling's bare server, the harness's own process (in the single shape they are the same process).
 */
async function sampled<T>(context: ScenarioContext, work: () => Promise<T>, app: 'orderstream' | 'harness' = 'orderstream'): Promise<{ value: T; resources: ResourceUsage }> {
  const { target } = context;
  const sampler = new ResourceSampler({
    postmasterPid: target.postgres.postmasterPid, loadGeneratorPid: context.load.pid,
    ...(app === 'orderstream' ? { appProcesses: target.processes.app, otherProcesses: target.processes.others } : {}),
  });
  sampler.start();
  try {
    const value = await work();
    return { value, resources: sampler.stop() };
  } catch (error) {
    sampler.stop();
    throw error;
  }
}

function loadData(target: BenchTarget, ownOrders: LoadData['ownOrders'] = target.setupOrders): LoadData {
  return {
    productIds: target.productIds, skus: target.skus, tokens: target.customers.map((customer) => customer.token), ownOrders,
    credentials: target.customers.map(({ email, password }) => ({ email, password })),
  };
}

function plan(context: ScenarioContext, mix: LoadPlan['mix'], data: LoadData, extra: Partial<LoadPlan> = {}): LoadPlan {
  return { url: context.target.baseUrl, connections: context.connections, durationSeconds: context.durationSeconds, mix, data, ...extra };
}

/** A POST of an order answers within about 40 ms under load: what one connection carries at a steady pace. */
const pacedRequestsPerConnection = 25;

/**
 * Orders offered at a steady pace: with at least the connections that pace needs (`--connections`
 * sizes the closed-loop floods; a pace above what they carry would queue in the load generator and
 * then be dropped, measuring the generator instead of OrderStream).
 */
function pacedOrders(context: ScenarioContext, ratePerSecond: number): LoadPlan {
  return plan(context, [{ kind: 'place-order', weight: 1 }], loadData(context.target), {
    ratePerSecond, recordOrders: true, connections: Math.max(context.connections, Math.ceil(ratePerSecond / pacedRequestsPerConnection)),
  });
}

/**
 * Warm-up (discarded), then the measured run; `database` is what the database committed and
 * OrderStream sent it in the measured run (PostgreSQL's commit counts trail by up to a second at
 * both ends, which in a steady run cancels out).
 */
async function warmedUp(context: ScenarioContext, name: string, loadPlan: LoadPlan, app: 'orderstream' | 'harness' = 'orderstream'): Promise<{
  value: LoadResult; resources: ResourceUsage; database: { commits: number; statements: number | null };
}> {
  if (context.warmUpSeconds > 0) {
    context.log(`${name}: warming up for ${context.warmUpSeconds} s`);
    await context.load.run({ ...loadPlan, durationSeconds: context.warmUpSeconds, recordOrders: false });
  }
  context.log(`${name}: measuring for ${loadPlan.durationSeconds} s`);
  const before = await databaseCounts(context);
  const measured = await sampled(context, () => context.load.run(loadPlan), app);
  return { ...measured, database: countsBetween(before, await databaseCounts(context)) };
}

/**
 * Waits for the background to finish the work of earlier scenarios — their sagas' messages,
 * payments and emails, and any job (imports; the benchmark starts none) — so that a scenario
 * measures only its own (what a place-order flood leaves behind would otherwise be done during
 * the next scenario and take its CPU and database time). What is still pending after
 * `drainTimeoutSeconds` is reported.
 */
async function settle(context: ScenarioContext, before: string, options = { jobs: true }): Promise<void> {
  const { waitedMs, backlog } = await context.target.observer.settle(context.drainTimeoutSeconds * 1000, options);
  const { jobs, ...sagaWork } = backlog;
  if (Object.values(sagaWork).some((count) => count > 0)) {
    context.warn(`saga work was still pending when ${before} started (after waiting ${Math.round(waitedMs / 1000)} s): ${JSON.stringify(sagaWork)}`);
  } else if (waitedMs > 1000) {
    context.log(`waited ${round(waitedMs / 1000)} s for earlier saga work and jobs before ${before}`);
  }
  if (jobs > 0) context.log(`${jobs} jobs are still queued or running as ${before} starts`);
}

function httpErrors(result: LoadResult) {
  return { non2xx: result.non2xx, connectionErrors: result.errors, timeouts: result.timeouts, dropped: result.dropped };
}

/** 503s of a closed-loop flood with orders in it: admission refusing orders past the backlog bound, by design, not errors. */
function refusedOf(result: LoadResult): number {
  return result.statusCodes['503'] ?? 0;
}

/** The share of a flood's answers that were admission refusals. */
function refusedShareOf(result: LoadResult): number {
  return result.answered === 0 ? 0 : round(refusedOf(result) / result.answered);
}

/** POST→CONFIRMED of the orders a paced run placed that were confirmed: from when each POST was due to its confirmation. */
async function confirmationLatencies(context: ScenarioContext, result: LoadResult): Promise<number[]> {
  const statuses = await context.target.observer.statusOf(result.placedOrders.map((order) => order.id));
  const latencies: number[] = [];
  for (const order of result.placedOrders) {
    const status = statuses.get(order.id);
    if (status?.status === 'CONFIRMED') latencies.push(status.updatedAtMs - order.dueAtMs);
  }
  return latencies;
}

/** The HTTP errors of a flood of orders, where a 503 refusal is the system working as designed. */
function floodErrors(result: LoadResult) {
  return { ...httpErrors(result), non2xx: result.non2xx - refusedOf(result) };
}

function loadDetails(result: LoadResult): Record<string, unknown> {
  return {
    requests: result.answered, statusCodes: result.statusCodes,
    ...(result.failureSamples.length === 0 ? {} : { failureSamples: result.failureSamples }),
  };
}

/** `GET /v1/products/{id}` through the edge with a customer's JWT, ids spread over the catalogue. */
export async function catalogRead(context: ScenarioContext): Promise<ScenarioResult> {
  const { value: result, resources } = await warmedUp(context, 'catalog-read', plan(context, [{ kind: 'catalog-read', weight: 1 }], loadData(context.target)));
  return {
    name: 'catalog-read', kind: 'scenario', metric: 'req/s', throughput: round(result.ok / result.durationSeconds), latencyMs: result.latencyMs, ratio: null, databaseLoad: null,
    errors: withTotal({ ...httpErrors(result), unfinishedOrders: 0, cancelledOrders: 0, failedReplays: 0 }),
    durationSeconds: round(result.durationSeconds), warmUpSeconds: context.warmUpSeconds, connections: context.connections, resources, details: loadDetails(result),
  };
}

/**
 * The HTTP ceiling: a bare `node:http` server in the harness's process (OrderStream's own in the
 * single shape) answering the product's JSON byte for byte, under the same load as catalog-read;
 * its `app` resources are that process's.
 */
export async function httpCeiling(context: ScenarioContext): Promise<ScenarioResult> {
  const body = context.target.productBody;
  const server = createServer((request, response) => {
    request.resume();
    response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) }).end(body);
  });
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve); });
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { value: result, resources } = await warmedUp(context, 'http-ceiling', plan(context, [{ kind: 'catalog-read', weight: 1 }], loadData(context.target), { url }), 'harness');
    return {
      name: 'http-ceiling', kind: 'ceiling', metric: 'req/s', throughput: round(result.ok / result.durationSeconds), latencyMs: result.latencyMs, ratio: null, databaseLoad: null,
      errors: withTotal({ ...httpErrors(result), unfinishedOrders: 0, cancelledOrders: 0, failedReplays: 0 }),
      durationSeconds: round(result.durationSeconds), warmUpSeconds: context.warmUpSeconds, connections: context.connections, resources,
      details: { ...loadDetails(result), bodyBytes: Buffer.byteLength(body) },
    };
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** Connections signing in at once in the login storm: far more sign-ins than there are cores to hash them on. */
const loginStormConnections = 64;
/** Catalogue reads per second offered beside the login storm (and alone, for the baseline): well within what the edge serves. */
const loginStormReadRate = 200;
/** Connections of those reads: enough that reads slowed down by the storm still leave on time. */
const loginStormReadConnections = 16;

/**
 * Whether expensive work starves the rest: catalogue reads at a steady pace (an open loop, latency
 * from when each was due) first alone, then while 64 connections sign in as fast as they are answered
 * (argon2id, bounded by the password-hashing limiter). Reports the sign-ins per second, the share the
 * limiter refused with 503 (expected under a storm, so not an error), and the reads' latency idle and
 * during the storm; the row's latencies are the reads' during the storm. At most 5 s each.
 */
export async function loginStorm(context: ScenarioContext): Promise<ScenarioResult> {
  await settle(context, 'login-storm');
  const seconds = Math.min(5, context.durationSeconds);
  const data = loadData(context.target);
  const reads = plan(context, [{ kind: 'catalog-read', weight: 1 }], data, {
    durationSeconds: seconds, ratePerSecond: loginStormReadRate, connections: loginStormReadConnections,
  });
  const storm = plan(context, [{ kind: 'sign-in', weight: 1 }], data, { durationSeconds: seconds, connections: loginStormConnections });
  if (context.warmUpSeconds > 0) {
    context.log(`login-storm: warming up the reads for ${context.warmUpSeconds} s`);
    await context.load.run({ ...reads, durationSeconds: context.warmUpSeconds });
  }
  context.log(`login-storm: catalogue reads at ${loginStormReadRate}/s alone for ${seconds} s`);
  const idle = await context.load.run(reads);
  context.log(`login-storm: the same reads while ${loginStormConnections} connections sign in, for ${seconds} s`);
  const { value: [during, signIns], resources } = await sampled(context, () => Promise.all([context.load.run(reads), context.load.run(storm)]));
  // Sign-ins still waiting for a hasher when the storm stopped are done within the hashing wait bound (2 s by default).
  await sleep(2000);
  const refused = signIns.statusCodes['503'] ?? 0;
  const loads = [idle, during, signIns];
  return {
    name: 'login-storm', kind: 'scenario', metric: 'sign-ins/s', throughput: round(signIns.ok / signIns.durationSeconds), latencyMs: during.latencyMs, ratio: null, databaseLoad: null,
    errors: withTotal({
      // A 503 is the limiter refusing a sign-in it could not hash in time: what the storm is meant to show, not a failure.
      non2xx: idle.non2xx + during.non2xx + signIns.non2xx - refused,
      connectionErrors: sum(loads.map((load) => load.errors)), timeouts: sum(loads.map((load) => load.timeouts)), dropped: idle.dropped + during.dropped,
      unfinishedOrders: 0, cancelledOrders: 0, failedReplays: 0,
    }),
    durationSeconds: round(signIns.durationSeconds), warmUpSeconds: context.warmUpSeconds, connections: loginStormConnections, resources,
    details: {
      signInConnections: loginStormConnections,
      signInsAnswered: signIns.answered,
      signInsRefused: refused,
      refusedShare: signIns.answered === 0 ? 0 : round(refused / signIns.answered),
      signInLatencyMs: signIns.byKind['sign-in']?.latencyMs ?? null,
      signInStatusCodes: signIns.statusCodes,
      catalogueReadsPerSecond: loginStormReadRate,
      catalogueReadLatencyIdleMs: idle.latencyMs,
      catalogueReadLatencyDuringStormMs: during.latencyMs,
      catalogueP99ToIdle: idle.latencyMs.p99 > 0 ? round(during.latencyMs.p99 / idle.latencyMs.p99) : null,
      failureSamples: loads.flatMap((load) => load.failureSamples).filter((sample) => !sample.startsWith('sign-in 503')),
    },
  };
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

/** Orders placed since `since`: waits for them to end, and counts those that did not, or were cancelled. */
async function drain(context: ScenarioContext, name: string, since: Date) {
  context.log(`${name}: waiting up to ${context.drainTimeoutSeconds} s for every order to reach CONFIRMED or CANCELLED`);
  const { waitedMs } = await context.target.observer.waitForTerminal(since, context.drainTimeoutSeconds * 1000);
  const outcomes = await context.target.observer.outcomes(since);
  return { drainSeconds: round(waitedMs / 1000), outcomes };
}

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

/** One order's saga, captured from the real flow, ready to replay. */
export interface CapturedOrder {
  counts: OrderStatementCounts;
  /** The part of `counts` up to the order's confirmation (the rest is emails and the invoice). */
  untilConfirmed: { statements: number; commits: number };
  /** Time to each step of the captured order's saga from the one before, on the idle system. */
  idleStepTimesMs: { step: string; p50Ms: number }[];
  capturedUnits: number;
  orderUnits: number;
  plan: ReplayPlan;
}

/**
 * Places one order on the otherwise idle system while recording every statement sent to
 * PostgreSQL, until the order is CONFIRMED and the background has nothing left to do; keeps the
 * units that belong to the order (see `selectOrderUnits`).
 */
export async function captureOneOrder(context: ScenarioContext): Promise<CapturedOrder> {
  const { target } = context;
  await settle(context, 'the statement capture', { jobs: true });
  const customer = target.customers[0];
  if (customer === undefined) throw new Error('the benchmark needs at least one customer');
  const skus = [...new Set([target.skus[1 % target.skus.length], target.skus[2 % target.skus.length]])].filter((sku) => sku !== undefined);
  const idempotencyKey = randomUUID();
  const capture = new StatementCapture({ ignoredApplication: observerApplication });
  const capturedAtMs = Date.now();
  capture.start();
  let units;
  let orderId: string;
  try {
    const response = await fetch(`${target.baseUrl}/v1/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${customer.token}`, 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
      body: JSON.stringify({ items: skus.map((sku) => ({ sku, quantity: 1 })), payment: { token: 'tok_visa' } }),
    });
    const answer = await response.text();
    if (response.status !== 202) throw new Error(`placing the captured order answered ${response.status}: ${answer.slice(0, 300)}`);
    orderId = (JSON.parse(answer) as { id: string }).id;
    const finished = await target.observer.waitForTerminal(new Date(capturedAtMs - 1000), 30_000);
    if (finished.unfinished > 0) throw new Error('the captured order did not finish within 30 s');
    await target.observer.settle(30_000, { jobs: true });
    // The notification worker records its last steps a moment after the backlog empties.
    await new Promise((resolve) => setTimeout(resolve, 1500));
  } finally {
    units = capture.stop();
  }
  const status = (await target.observer.statusOf([orderId])).get(orderId)?.status;
  if (status !== 'CONFIRMED') throw new Error(`the captured order ended ${status ?? 'nowhere'}, not CONFIRMED`);
  const orderUnits = selectOrderUnits(units, tokensIn([orderId, idempotencyKey, ...skus].join(' ')));
  const idleStepTimesMs = (await target.observer.stepTimes([orderId])).map(({ step, p50Ms }) => ({ step, p50Ms }));
  // Up to the transaction that makes the order CONFIRMED; what follows (emails, the invoice) is its aftermath.
  const confirming = orderUnits.findIndex((unit) => unit.statements.some((statement) => /update\s+"?orders"?\."?orders"?/i.test(statement.text) && statement.values.includes('CONFIRMED')));
  const untilConfirmed = countOrderStatements(orderUnits.slice(0, confirming + 1));
  return {
    counts: countOrderStatements(orderUnits), untilConfirmed: { statements: untilConfirmed.statements, commits: untilConfirmed.commits }, idleStepTimesMs,
    capturedUnits: units.length, orderUnits: orderUnits.length, plan: planReplay(orderUnits, capturedAtMs),
  };
}

/**
 * The database ceiling: the captured order's committed statements replayed directly with `pg`, at
 * the benchmark's concurrency, with fresh ids per replay, on the same database once OrderStream has
 * stopped — the orders per second PostgreSQL could commit if nothing but those statements were asked of it.
 */
export async function databaseCeiling(context: ScenarioContext, captured: CapturedOrder): Promise<ScenarioResult> {
  const { databaseUrl } = context.target;
  if (databaseUrl === undefined) throw new Error('the db-ceiling replays on the single shape\'s database; the services shape has none to replay on');
  const replay = (durationSeconds: number, onFinished?: () => void) => replayOrders({
    databaseUrl, plan: captured.plan, skus: context.target.skus, concurrency: context.connections, durationSeconds,
    ...(onFinished === undefined ? {} : { onFinished }),
  });
  if (context.warmUpSeconds > 0) {
    context.log(`db-ceiling: warming up for ${context.warmUpSeconds} s`);
    await replay(context.warmUpSeconds);
  }
  context.log(`db-ceiling: replaying ${captured.plan.statements} statements per order for ${context.durationSeconds} s`);
  // Sampled up to the last replay, before its connections close (their CPU would then count as exited processes').
  const sampler = new ResourceSampler({ postmasterPid: context.target.postgres.postmasterPid, loadGeneratorPid: context.load.pid });
  let resources: ResourceUsage | undefined;
  sampler.start();
  const result = await replay(context.durationSeconds, () => { resources = sampler.stop(); });
  resources ??= sampler.stop();
  if (result.firstError !== null) context.warn(`a replayed order failed: ${result.firstError}`);
  return {
    name: 'db-ceiling', kind: 'ceiling', metric: 'orders/s', throughput: round(result.ordersPerSecond), latencyMs: null, ratio: null, databaseLoad: null,
    errors: withTotal({ non2xx: 0, connectionErrors: 0, timeouts: 0, dropped: 0, unfinishedOrders: 0, cancelledOrders: 0, failedReplays: result.failedOrders }),
    durationSeconds: round(result.durationSeconds), warmUpSeconds: context.warmUpSeconds, connections: context.connections, resources,
    details: {
      ordersReplayed: result.orders,
      statementsPerOrder: captured.plan.statements,
      commitsPerOrder: captured.counts.commits,
      writesReplayed: result.writesReplayed,
      writesChangingOtherRowCounts: result.rowCountMismatches,
      relayUnitsSkippedForTheLock: result.lockSkips,
      slowestStatements: result.slowestStatements,
      ...(result.firstError === null ? {} : { firstError: result.firstError }),
    },
  };
}

/**
 * A physical ceiling of the database, on the same database as the scenarios once OrderStream has
 * stopped, at the benchmark's concurrency: durable commits per second (`commit-ceiling`: one
 * single-row insert per transaction, with the server's synchronous_commit, as every connection of the
 * application has it), or single-row statements per second (`statement-ceiling`: primary-key selects
 * outside a transaction). What the saga's orders ask of the database is compared with these.
 */
export async function primitiveCeiling(context: ScenarioContext, operation: PrimitiveOperation): Promise<ScenarioResult> {
  const name = operation === 'commit' ? 'commit-ceiling' : 'statement-ceiling';
  const { ceilingDatabaseUrl } = context.target;
  context.log(`${name}: ${operation === 'commit' ? 'single-row inserts, each its own transaction' : 'primary-key selects'} over ${context.connections} connections, ` +
    `${context.warmUpSeconds} s warm-up and ${context.durationSeconds} s measured`);
  const sampler = new ResourceSampler({ postmasterPid: context.target.postgres.postmasterPid, loadGeneratorPid: context.load.pid });
  let resources: ResourceUsage | undefined;
  const result = await measurePrimitiveCeiling({
    databaseUrl: ceilingDatabaseUrl, operation, connections: context.connections, durationSeconds: context.durationSeconds, warmUpSeconds: context.warmUpSeconds,
    onMeasuring: () => { sampler.start(); }, onFinished: () => { resources = sampler.stop(); },
  });
  resources ??= sampler.stop();
  if (result.firstError !== null) context.warn(`${name}: ${result.failed} operations failed, the first with: ${result.firstError}`);
  if (result.confirmed !== result.operations) context.warn(`${name}: ${result.operations} operations counted but the database confirms ${result.confirmed}`);
  return {
    name, kind: 'ceiling', metric: operation === 'commit' ? 'commits/s' : 'statements/s', throughput: round(result.perSecond), latencyMs: result.latencyMs,
    ratio: null, databaseLoad: null,
    errors: withTotal({ non2xx: 0, connectionErrors: 0, timeouts: 0, dropped: 0, unfinishedOrders: 0, cancelledOrders: 0, failedReplays: result.failed }),
    durationSeconds: round(result.durationSeconds), warmUpSeconds: context.warmUpSeconds, connections: context.connections, resources,
    details: {
      statement: result.statement,
      operations: result.operations,
      confirmedByTheDatabase: result.confirmed,
      callers: context.connections * 2,
      ...result.durability,
      ...(result.firstError === null ? {} : { firstError: result.firstError }),
    },
  };
}
