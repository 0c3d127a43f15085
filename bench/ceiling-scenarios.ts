import { randomUUID } from 'node:crypto';
import { withTotal, type ScenarioResult } from './bench-result.ts';
import { observerApplication } from './bench-environment.ts';
import { countOrderStatements, selectOrderUnits, tokensIn, type OrderStatementCounts } from './order-statements.ts';
import { probeOf } from './orderstream-probe.ts';
import { measurePrimitiveCeiling, type PrimitiveOperation } from './primitive-ceiling.ts';
import { replayOrders } from './replay-orders.ts';
import { planReplay, type ReplayPlan } from './replay-plan.ts';
import { ResourceSampler, type ResourceUsage } from './resource-sampler.ts';
import { settle, type ScenarioContext } from './scenario-context.ts';
import { round } from './statistics.ts';

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
 * Places one order on the otherwise idle system while recording every statement OrderStream's
 * process sends to PostgreSQL (inside it, through the probe), until the order is CONFIRMED and the
 * background has nothing left to do; keeps the units that belong to the order (see `selectOrderUnits`).
 */
export async function captureOneOrder(context: ScenarioContext): Promise<CapturedOrder> {
  const { target } = context;
  await settle(context, 'the statement capture', { jobs: true });
  const customer = target.customers[0];
  if (customer === undefined) throw new Error('the benchmark needs at least one customer');
  const skus = [...new Set([target.skus[1 % target.skus.length], target.skus[2 % target.skus.length]])].filter((sku) => sku !== undefined);
  const idempotencyKey = randomUUID();
  const probe = probeOf(target);
  const capturedAtMs = Date.now();
  await probe.startCapture(observerApplication);
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
    units = await probe.stopCapture();
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
