import pg from 'pg';
import { PreparedStatements } from '../src/platform/database/prepared-statements.ts';
import { ReplayInstance } from './replay-instance.ts';
import { firstValue, type ReplayPlan, type ReplayStatement } from './replay-plan.ts';

/** Result of replaying orders' statements for a while. */
export interface ReplayResult {
  orders: number;
  durationSeconds: number;
  ordersPerSecond: number;
  failedOrders: number;
  firstError: string | null;
  /** Writes whose changed-row count differed from the capture's: a sign the replay did less (or more) than the real flow. */
  rowCountMismatches: number;
  /** Units cut short because another replay held their advisory lock. */
  lockSkips: number;
  writesReplayed: number;
  /** The statements that took the longest in all, with their share of the replay's time in the database. */
  slowestStatements: { statement: string; totalMs: number; meanMs: number; share: number }[];
}

/**
 * Replays `plan` as fast as `concurrency` workers can, each replaying whole orders one unit after
 * another on a pool of `concurrency` connections: what the database can commit when nothing but
 * the saga's own statements is asked of it. They are sent as OrderStream sends them: a text that
 * recurs is kept prepared on each connection (decision 0034).
 */
export async function replayOrders(options: {
  databaseUrl: string;
  plan: ReplayPlan;
  skus: readonly string[];
  concurrency: number;
  durationSeconds: number;
  /** Called when the last replay finished, before the pool's connections close. */
  onFinished?: () => void;
}): Promise<ReplayResult> {
  const { plan, concurrency } = options;
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: concurrency, application_name: 'orderstream-bench-replay' });
  pool.on('error', () => undefined);
  // The statements go as OrderStream sends them, kept prepared once they recur (decision 0034).
  const statements = new PreparedStatements();
  pool.on('connect', (client) => { statements.prepareOn(client); });
  const result = { orders: 0, failedOrders: 0, firstError: null as string | null, rowCountMismatches: 0, writesReplayed: 0, lockSkips: 0 };
  const timings = plan.units.map((unit) => unit.map(() => ({ totalMs: 0, count: 0 })));
  const startedAt = performance.now();
  const endsAt = startedAt + options.durationSeconds * 1000;
  const relay = new OneAtATime();
  try {
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (performance.now() < endsAt) {
        const outcome = await replayOne(pool, plan, options.skus, timings, relay);
        result.orders += 1;
        result.rowCountMismatches += outcome.rowCountMismatches;
        result.writesReplayed += outcome.writes;
        result.lockSkips += outcome.lockSkips;
        if (outcome.error !== undefined) {
          result.failedOrders += 1;
          result.firstError ??= outcome.error;
        }
      }
    }));
    options.onFinished?.();
  } finally {
    await pool.end();
  }
  const durationSeconds = (performance.now() - startedAt) / 1000;
  const timed = plan.units.flatMap((unit, unitIndex) => unit.map((statement, statementIndex) => ({ statement: statement.label, ...(timings[unitIndex]?.[statementIndex] ?? { totalMs: 0, count: 0 }) })));
  const allMs = timed.reduce((sum, entry) => sum + entry.totalMs, 0);
  const slowestStatements = timed.sort((left, right) => right.totalMs - left.totalMs).slice(0, 8).map((entry) => ({
    statement: entry.statement, totalMs: Math.round(entry.totalMs), meanMs: Math.round((entry.totalMs / Math.max(1, entry.count)) * 100) / 100,
    share: Math.round((entry.totalMs / Math.max(1, allMs)) * 1000) / 1000,
  }));
  return { ...result, durationSeconds, ordersPerSecond: (result.orders - result.failedOrders) / durationSeconds, slowestStatements };
}

/** Runs the tasks given to it one after another, in the order given, whoever gives them. */
class OneAtATime {
  #tail: Promise<void> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task);
    this.#tail = result.then(() => undefined, () => undefined);
    return result;
  }
}

async function replayOne(
  pool: pg.Pool, plan: ReplayPlan, skus: readonly string[], timings: { totalMs: number; count: number }[][], relay: OneAtATime,
): Promise<{ error?: string; rowCountMismatches: number; writes: number; lockSkips: number }> {
  const replay = new ReplayInstance(plan, skus);
  const counts = { rowCountMismatches: 0, writes: 0, lockSkips: 0 };
  for (const [unitIndex, unit] of plan.units.entries()) {
    const replayUnit = () => replayOneUnit(pool, replay, unit, unitIndex, timings, counts);
    // The relay's units go one at a time across every replay, as the one relay leading a database sends them.
    const error = await (unit.some((statement) => statement.relay) ? relay.run(replayUnit) : replayUnit());
    if (error !== undefined) return { error, ...counts };
  }
  return counts;
}

/** Replays one unit on a connection of its own; the error that ended it, if any. */
async function replayOneUnit(
  pool: pg.Pool, replay: ReplayInstance, unit: readonly ReplayStatement[], unitIndex: number,
  timings: { totalMs: number; count: number }[][], counts: { rowCountMismatches: number; writes: number; lockSkips: number },
): Promise<string | undefined> {
  const client = await pool.connect();
  let inTransaction = false;
  try {
    for (const [statementIndex, statement] of unit.entries()) {
      const { text, values } = replay.build(statement);
      const sentAt = performance.now();
      const answered = await client.query(text, values);
      const timing = timings[unitIndex]?.[statementIndex];
      if (timing !== undefined) {
        timing.totalMs += performance.now() - sentAt;
        timing.count += 1;
      }
      inTransaction = /^\s*begin\b/i.test(text) || (inTransaction && !/^\s*commit\b/i.test(text));
      replay.answer(unitIndex, statementIndex, answered.rows as Record<string, unknown>[]);
      if (statement.capturedRowCount !== null) {
        counts.writes += 1;
        if (answered.rowCount !== statement.capturedRowCount) counts.rowCountMismatches += 1;
      }
      if (statement.tryLock && firstValue(answered.rows as Record<string, unknown>[]) !== true) {
        counts.lockSkips += 1;
        await client.query('commit');
        inTransaction = false;
        break;
      }
    }
  } catch (error) {
    if (inTransaction) await client.query('rollback').catch(() => undefined);
    return error instanceof Error ? error.message : String(error);
  } finally {
    client.release();
  }
  return undefined;
}
