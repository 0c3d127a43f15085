import type { DatabaseLoad } from './bench-result.ts';
import type { BenchTarget } from './bench-environment.ts';
import type { LoadGeneratorProcess } from './load-generator-process.ts';
import type { LoadPlan, LoadResult } from './load-plan.ts';
import type { StatementCounting } from './orderstream-probe.ts';
import { ResourceSampler, type ResourceUsage } from './resource-sampler.ts';
import { round } from './statistics.ts';

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
  /** Counts, inside the single shape's process, the statements OrderStream sends while scenarios run; unset in the services shape, whose statements come from many processes. */
  statements?: StatementCounting | undefined;
}

/** Committed transactions (every observed database) and statements (when counted) so far. */
export async function databaseCounts(context: ScenarioContext): Promise<{ commits: number; statements: number | null }> {
  const [commits, statements] = await Promise.all([context.target.observer.commits(), context.statements?.read()]);
  return { commits, statements: statements?.statements ?? null };
}

/** What happened between two `databaseCounts`. */
export function countsBetween(before: { commits: number; statements: number | null }, after: { commits: number; statements: number | null }) {
  return { commits: after.commits - before.commits, statements: before.statements === null || after.statements === null ? null : after.statements - before.statements };
}

/** A scenario's database load per order, the shares of the ceilings left for `compareWithCeilings` to fill in. */
export function databaseLoadOf(orders: number, counted: { commits: number; statements: number | null }, ordersPerSecond: number, ordersBasis: DatabaseLoad['ordersBasis']): DatabaseLoad {
  return {
    ordersPerSecond, ordersBasis,
    commitsPerOrder: orders === 0 ? null : round(counted.commits / orders),
    statementsPerOrder: orders === 0 || counted.statements === null ? null : round(counted.statements / orders),
    commitsPerSecond: null, statementsPerSecond: null, commitCeilingShare: null, statementCeilingShare: null, replayShare: null,
  };
}

/**
 * Runs `work` while sampling every process's CPU and memory. `app` is OrderStream's processes, or,
 * for the ceilings the harness runs itself (the HTTP ceiling's bare server, the COPY ceilings), the
 * harness's own process.
 */
export async function sampled<T>(context: ScenarioContext, work: () => Promise<T>, app: 'orderstream' | 'harness' = 'orderstream'): Promise<{ value: T; resources: ResourceUsage }> {
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

/**
 * Warm-up (discarded), then the measured run; `database` is what the database committed and
 * OrderStream sent it in the measured run (PostgreSQL's commit counts trail by up to a second at
 * both ends, which in a steady run cancels out).
 */
export async function warmedUp(context: ScenarioContext, name: string, loadPlan: LoadPlan, app: 'orderstream' | 'harness' = 'orderstream'): Promise<{
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
export async function settle(context: ScenarioContext, before: string, options = { jobs: true }): Promise<void> {
  const { waitedMs, backlog } = await context.target.observer.settle(context.drainTimeoutSeconds * 1000, options);
  const { jobs, ...sagaWork } = backlog;
  if (Object.values(sagaWork).some((count) => count > 0)) {
    context.warn(`saga work was still pending when ${before} started (after waiting ${Math.round(waitedMs / 1000)} s): ${JSON.stringify(sagaWork)}`);
  } else if (waitedMs > 1000) {
    context.log(`waited ${round(waitedMs / 1000)} s for earlier saga work and jobs before ${before}`);
  }
  if (jobs > 0) context.log(`${jobs} jobs are still queued or running as ${before} starts`);
}

/** Orders placed since `since`: waits for them to end, and counts those that did not, or were cancelled. */
export async function drain(context: ScenarioContext, name: string, since: Date) {
  context.log(`${name}: waiting up to ${context.drainTimeoutSeconds} s for every order to reach CONFIRMED or CANCELLED`);
  const { waitedMs } = await context.target.observer.waitForTerminal(since, context.drainTimeoutSeconds * 1000);
  const outcomes = await context.target.observer.outcomes(since);
  return { drainSeconds: round(waitedMs / 1000), outcomes };
}
