import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { benchSkuPattern } from './catalogue.ts';
import { isPlainObject, uuidPattern } from './order-statements.ts';
import type { CapturedUnit } from './statement-capture.ts';
import { percentiles, type Percentiles } from './statistics.ts';

/** How a parameter is rebuilt for each replay. */
type Template =
  | { kind: 'static'; value: unknown }
  | { kind: 'text'; value: string }
  | { kind: 'date'; epochMs: number }
  | { kind: 'result'; unit: number; statement: number; row: number; column: string; fallback: Template }
  /** Every row's `column` of an earlier answer (an array of all the positions a select found, say). */
  | { kind: 'column'; unit: number; statement: number; column: string; fallback: Template }
  | { kind: 'array'; items: Template[] }
  | { kind: 'object'; entries: [string, Template][] };

/** One statement of a replay plan. */
export interface ReplayStatement {
  text: Template;
  /** The captured text, shortened, to name the statement in the report. */
  label: string;
  values: Template[];
  /** Rows the statement changed when captured, for writes; compared with each replay's. */
  capturedRowCount: number | null;
  /**
   * A `pg_try_advisory_xact_lock` the capture won. When a replay loses it, the rest of the unit is
   * skipped and the transaction committed, as the code that took it does (the outbox relay: one at a time).
   */
  tryLock: boolean;
}

/** One order's committed statements, ready to be replayed with fresh ids. */
export interface ReplayPlan {
  units: ReplayStatement[][];
  capturedAtMs: number;
  statements: number;
}

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

const idColumn = /(^id$|_id$|^position$|Id$)/;

/**
 * Turns an order's captured units into a replay plan. Every UUID in a text, parameter or JSON document
 * becomes a fresh one per replay (consistently: the same old id gives the same new id within a replay),
 * SKUs are re-drawn from the catalogue, timestamps move to the replay's time, and a value that the
 * database produced in an earlier answer (an identity, a generated lease token, an outbox position) is
 * taken from that same answer in the replay — all of that answer's rows when the capture sent all of
 * them (the outbox relay marks sent every position it read, however many a replay reads).
 */
export function planReplay(units: readonly CapturedUnit[], capturedAtMs: number): ReplayPlan {
  // Where each value was first seen: in an answer (then a replay takes it from the same answer), or sent by the application ('sent').
  const origins = new Map<string, { unit: number; statement: number; row: number; column: string } | 'sent'>();
  const answerSizes = new Map<string, number>();
  const plan: ReplayStatement[][] = [];
  let statements = 0;
  units.filter((unit) => unit.outcome === 'commit').forEach((unit, unitIndex) => {
    const compiled: ReplayStatement[] = [];
    unit.statements.forEach((statement, statementIndex) => {
      const compile = (value: unknown): Template => {
        if (typeof value === 'string' || typeof value === 'number') {
          const key = originKey(value);
          const origin = origins.get(key);
          const plain: Template = typeof value === 'string' && hasTokens(value) ? { kind: 'text', value } : { kind: 'static', value };
          if (origin === undefined) origins.set(key, 'sent');
          return origin === undefined || origin === 'sent' ? plain : { kind: 'result', ...origin, fallback: plain };
        }
        if (value instanceof Date) return { kind: 'date', epochMs: value.getTime() };
        if (Array.isArray(value)) {
          const array: Template = { kind: 'array', items: value.map(compile) };
          return wholeColumn(array, answerSizes) ?? array;
        }
        if (isPlainObject(value)) return { kind: 'object', entries: Object.entries(value).map(([key, item]) => [key, compile(item)]) };
        return { kind: 'static', value };
      };
      answerSizes.set(`${unitIndex}:${statementIndex}`, statement.rows.length);
      compiled.push({
        label: statement.text.replace(/\s+/g, ' ').trim().slice(0, 120),
        text: hasTokens(statement.text) ? { kind: 'text', value: statement.text } : { kind: 'static', value: statement.text },
        values: statement.values.map(compile),
        capturedRowCount: ['INSERT', 'UPDATE', 'DELETE'].includes(statement.command ?? '') ? statement.rowCount : null,
        tryLock: /pg_try_advisory_xact_lock/i.test(statement.text) && firstValue(statement.rows) === true,
      });
      if (!/^\s*(begin|commit)\b/i.test(statement.text)) statements += 1;
      statement.rows.forEach((row, rowIndex) => {
        for (const [column, value] of Object.entries(row)) {
          const tracked = (typeof value === 'string' && hasUuid(value)) || (typeof value === 'number' && idColumn.test(column));
          if (!tracked) continue;
          const key = originKey(value);
          if (!origins.has(key)) origins.set(key, { unit: unitIndex, statement: statementIndex, row: rowIndex, column });
        }
      });
    });
    plan.push(compiled);
  });
  return { units: plan, capturedAtMs, statements };
}

/**
 * Replays `plan` as fast as `concurrency` workers can, each replaying whole orders one unit after
 * another on a pool of `concurrency` connections: what the database can commit when nothing but
 * the saga's own statements is asked of it.
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
  const result = { orders: 0, failedOrders: 0, firstError: null as string | null, rowCountMismatches: 0, writesReplayed: 0, lockSkips: 0 };
  const timings = plan.units.map((unit) => unit.map(() => ({ totalMs: 0, count: 0 })));
  const startedAt = performance.now();
  const endsAt = startedAt + options.durationSeconds * 1000;
  try {
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (performance.now() < endsAt) {
        const outcome = await replayOne(pool, plan, options.skus, timings);
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

/**
 * One replay of a plan: builds each statement's text and parameters with this replay's fresh ids and
 * SKUs, from the answers the replay has had so far (which it must be told of, in order).
 */
export class ReplayInstance {
  readonly #skus: readonly string[];
  readonly #ids = new Map<string, string>();
  readonly #usedSkus = new Set<string>();
  readonly #shiftMs: number;
  readonly #answers: Record<string, unknown>[][][] = [];

  constructor(plan: ReplayPlan, skus: readonly string[], now: number = Date.now()) {
    this.#skus = skus;
    this.#shiftMs = now - plan.capturedAtMs;
  }

  /** The text and parameters to send for `statement`. */
  build(statement: ReplayStatement): { text: string; values: unknown[] } {
    return { text: this.#value(statement.text) as string, values: statement.values.map((value) => this.#value(value)) };
  }

  /** Records the rows statement `statementIndex` of unit `unitIndex` answered. */
  answer(unitIndex: number, statementIndex: number, rows: Record<string, unknown>[]): void {
    (this.#answers[unitIndex] ??= [])[statementIndex] = rows;
  }

  #value(template: Template): unknown {
    switch (template.kind) {
      case 'static': return template.value;
      case 'text': return this.#rewrite(template.value);
      case 'date': return new Date(template.epochMs + this.#shiftMs);
      case 'result': {
        const answered = this.#answers[template.unit]?.[template.statement]?.[template.row]?.[template.column];
        return answered ?? this.#value(template.fallback);
      }
      case 'column': {
        const rows = this.#answers[template.unit]?.[template.statement];
        return rows === undefined || rows.length === 0 ? this.#value(template.fallback) : rows.map((row) => row[template.column]);
      }
      case 'array': return template.items.map((item) => this.#value(item));
      case 'object': return Object.fromEntries(template.entries.map(([key, item]) => [key, this.#value(item)]));
    }
  }

  #rewrite(text: string): string {
    return text
      .replace(uuidPattern, (uuid) => {
        const key = uuid.toLowerCase();
        let fresh = this.#ids.get(key);
        if (fresh === undefined) {
          fresh = randomUUID();
          this.#ids.set(key, fresh);
        }
        return fresh;
      })
      .replace(benchSkuPattern, (sku) => {
        let drawn = this.#ids.get(sku);
        if (drawn === undefined) {
          drawn = drawSku(this.#skus, this.#usedSkus);
          this.#ids.set(sku, drawn);
        }
        return drawn;
      });
  }
}

async function replayOne(
  pool: pg.Pool, plan: ReplayPlan, skus: readonly string[], timings: { totalMs: number; count: number }[][],
): Promise<{ error?: string; rowCountMismatches: number; writes: number; lockSkips: number }> {
  const replay = new ReplayInstance(plan, skus);
  let rowCountMismatches = 0;
  let writes = 0;
  let lockSkips = 0;
  for (const [unitIndex, unit] of plan.units.entries()) {
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
          writes += 1;
          if (answered.rowCount !== statement.capturedRowCount) rowCountMismatches += 1;
        }
        if (statement.tryLock && firstValue(answered.rows as Record<string, unknown>[]) !== true) {
          lockSkips += 1;
          await client.query('commit');
          inTransaction = false;
          break;
        }
      }
    } catch (error) {
      if (inTransaction) await client.query('rollback').catch(() => undefined);
      client.release();
      return { error: error instanceof Error ? error.message : String(error), rowCountMismatches, writes, lockSkips };
    }
    client.release();
  }
  return { rowCountMismatches, writes, lockSkips };
}

/** `array` as a `column` template when it holds one column of every row of one earlier answer, in order. */
function wholeColumn(array: Extract<Template, { kind: 'array' }>, answerSizes: ReadonlyMap<string, number>): Template | undefined {
  const [first] = array.items;
  if (first?.kind !== 'result') return undefined;
  const sameAnswer = array.items.every((item, index) => item.kind === 'result' && item.unit === first.unit && item.statement === first.statement
    && item.column === first.column && item.row === index);
  if (!sameAnswer || answerSizes.get(`${first.unit}:${first.statement}`) !== array.items.length) return undefined;
  return { kind: 'column', unit: first.unit, statement: first.statement, column: first.column, fallback: array };
}

function firstValue(rows: readonly Record<string, unknown>[]): unknown {
  const [row] = rows;
  return row === undefined ? undefined : Object.values(row)[0];
}

function drawSku(skus: readonly string[], used: Set<string>): string {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const sku = skus[Math.floor(Math.random() * skus.length)];
    if (sku !== undefined && !used.has(sku)) {
      used.add(sku);
      return sku;
    }
  }
  return skus[0] ?? 'UNKNOWN';
}

function hasUuid(text: string): boolean {
  uuidPattern.lastIndex = 0;
  return uuidPattern.test(text);
}

function hasTokens(text: string): boolean {
  benchSkuPattern.lastIndex = 0;
  return hasUuid(text) || benchSkuPattern.test(text);
}

function originKey(value: string | number): string {
  return `${typeof value}:${String(value)}`;
}

/**
 * The cheapest unit of work of each physical ceiling: a durable commit (one single-row insert in its
 * own transaction), or one single-row statement that commits nothing (a primary-key select).
 */
export type PrimitiveOperation = 'commit' | 'statement';

/** What one physical ceiling measured: how many of its operations the database did per second. */
export interface PrimitiveCeilingResult {
  operation: PrimitiveOperation;
  /** Operations that succeeded in the measured time (the warm-up's not counted). */
  operations: number;
  durationSeconds: number;
  perSecond: number;
  failed: number;
  firstError: string | null;
  latencyMs: Percentiles;
  /**
   * What the database confirms it did: rows the commits left in the scratch table, or statements
   * that found their row; equal to `operations` when the measurement measured what it says.
   */
  confirmed: number;
  connections: number;
  /** The server's durability settings during the measurement, as every connection of the application gets them. */
  durability: { synchronousCommit: string; fsync: string; walSyncMethod: string; commitDelayMicroseconds: number };
  statement: string;
}

/** Rows of the scratch table primary-key selects pick from: few enough to stay in shared buffers, as the hot rows of an order do. */
const scratchRows = 10_000;

/**
 * Measures one physical ceiling of the database at `databaseUrl`: `operation`s as fast as a pool of
 * `connections` connections does them, with twice as many callers as connections so that a
 * connection's next statement is already queued in the pool when its answer arrives (as the
 * application's pool queues them). Works in a scratch schema of its own, dropped at the end.
 */
export async function measurePrimitiveCeiling(options: {
  databaseUrl: string;
  operation: PrimitiveOperation;
  connections: number;
  durationSeconds: number;
  warmUpSeconds: number;
  /** Called when the warm-up is over and the measured time starts. */
  onMeasuring?: () => void;
  /** Called when the last operation finished, before the pool's connections close. */
  onFinished?: () => void;
}): Promise<PrimitiveCeilingResult> {
  const { operation, connections } = options;
  const schema = `bench_ceiling_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: options.databaseUrl, application_name: 'orderstream-bench-ceiling' });
  await admin.connect();
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: connections, application_name: 'orderstream-bench-ceiling' });
  pool.on('error', () => undefined);
  try {
    await admin.query(`create schema ${schema}`);
    await admin.query(`create table ${schema}.commits (id bigint generated always as identity primary key, caller int not null, written_at timestamptz not null default now())`);
    await admin.query(`create table ${schema}.rows (id int primary key, payload text not null)`);
    await admin.query(`insert into ${schema}.rows (id, payload) select n, md5(n::text) from generate_series(1, ${scratchRows}) as n`);
    await admin.query(`analyze ${schema}.rows`);
    const statement = operation === 'commit'
      ? `insert into ${schema}.commits (caller) values ($1)`
      : `select id, payload from ${schema}.rows where id = $1`;
    const durability = await durabilityOf(pool);
    const run = async (seconds: number, record: boolean) => {
      const outcome = { operations: 0, failed: 0, found: 0, firstError: null as string | null, latencies: [] as number[] };
      const endsAt = performance.now() + seconds * 1000;
      await Promise.all(Array.from({ length: connections * 2 }, async (_, caller) => {
        while (performance.now() < endsAt) {
          const value = operation === 'commit' ? caller : 1 + Math.floor(Math.random() * scratchRows);
          try {
            const client = await pool.connect();
            // Timed on the connection: the wait for a free one (half the callers wait at any moment) is not the database's.
            const sentAt = performance.now();
            let answered: pg.QueryResult;
            try {
              answered = await client.query(statement, [value]);
            } finally {
              client.release();
            }
            if (!record) continue;
            outcome.latencies.push(performance.now() - sentAt);
            outcome.operations += 1;
            outcome.found += answered.rowCount ?? 0;
          } catch (error) {
            outcome.failed += 1;
            outcome.firstError ??= error instanceof Error ? error.message : String(error);
          }
        }
      }));
      return outcome;
    };
    if (options.warmUpSeconds > 0) await run(options.warmUpSeconds, false);
    const rowsBefore = await countRows(admin, `${schema}.commits`);
    options.onMeasuring?.();
    const startedAt = performance.now();
    const measured = await run(options.durationSeconds, true);
    const durationSeconds = (performance.now() - startedAt) / 1000;
    options.onFinished?.();
    const confirmed = operation === 'commit' ? (await countRows(admin, `${schema}.commits`)) - rowsBefore : measured.found;
    return {
      operation, operations: measured.operations, durationSeconds, perSecond: measured.operations / durationSeconds, failed: measured.failed,
      firstError: measured.firstError, latencyMs: percentiles(measured.latencies), confirmed, connections, durability,
      statement: statement.replace(schema, 'bench_ceiling'),
    };
  } finally {
    await pool.end();
    await admin.query(`drop schema if exists ${schema} cascade`).catch(() => undefined);
    await admin.end();
  }
}

async function durabilityOf(pool: pg.Pool): Promise<PrimitiveCeilingResult['durability']> {
  const answered = await pool.query<{ synchronous_commit: string; fsync: string; wal_sync_method: string; commit_delay: string }>(
    `select current_setting('synchronous_commit') as synchronous_commit, current_setting('fsync') as fsync,
            current_setting('wal_sync_method') as wal_sync_method, current_setting('commit_delay') as commit_delay`);
  const row = answered.rows[0];
  return {
    synchronousCommit: row?.synchronous_commit ?? 'unknown', fsync: row?.fsync ?? 'unknown', walSyncMethod: row?.wal_sync_method ?? 'unknown',
    commitDelayMicroseconds: Number(row?.commit_delay ?? 0),
  };
}

async function countRows(client: pg.Client, table: string): Promise<number> {
  return Number((await client.query<{ count: string }>(`select count(*) as count from ${table}`)).rows[0]?.count ?? 0);
}
