import pg from 'pg';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { GuardedPool, type PoolStats } from './guarded-pool.ts';
import { PreparedStatements } from './prepared-statements.ts';

export { DatabaseBusyError, isDatabaseBusy, NestedConnectionError } from './database-errors.ts';
export type { PoolStats } from './guarded-pool.ts';
export { notifyInProcessAfterCommit } from './work-scopes.ts';

/**
 * The handle every module's repositories are given. Modules type their own tables with
 * `db.$extendTables<TheirTables>()`; the platform's own tables are reached with plain `sql`.
 */
export type Database = Kysely<object>;

// PostgreSQL returns bigint (int8) and numeric as strings by default; counts and money
// amounts in OrderStream fit in a JavaScript number, and a string would leak into DTOs.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number.parseInt(value, 10));

/**
 * Every wait a connection can cause, bounded. A caller waits at most `acquireTimeoutMs` for a
 * pooled connection; PostgreSQL itself ends a statement, a lock wait or a transaction left idle
 * past its limit, so no request, consumer or stuck client can hold a connection for good.
 */
export interface DatabaseLimits {
  /** Longest wait for a pooled connection (or for a new one to open) before `DatabaseBusyError`. */
  acquireTimeoutMs: number;
  /** `statement_timeout` of every connection. */
  statementTimeoutMs: number;
  /** `lock_timeout` of every connection. */
  lockTimeoutMs: number;
  /** `idle_in_transaction_session_timeout` of every connection: PostgreSQL ends a session idle inside a transaction this long. */
  idleInTransactionTimeoutMs: number;
}

/** The limits used when a caller names none (DATABASE_* variables; docs/operations.md explains each). */
export const defaultDatabaseLimits: DatabaseLimits = Object.freeze({
  acquireTimeoutMs: 3000,
  statementTimeoutMs: 30_000,
  lockTimeoutMs: 10_000,
  idleInTransactionTimeoutMs: 30_000,
});

/** Opens a pooled connection to PostgreSQL, with every wait bounded (`limits`) and, when `nestingGuard` is on, nested acquires refused. */
export function createDatabase(options: {
  url: string;
  poolSize: number;
  applicationName?: string;
  limits?: Partial<DatabaseLimits>;
  /** Refuse a second connection to a unit of work that holds one (default on; DATABASE_NESTING_GUARD). */
  nestingGuard?: boolean;
  /** Keep the statements that run most prepared on each connection (default on; DATABASE_PREPARED_STATEMENTS). */
  preparedStatements?: boolean;
}): Database {
  const limits = { ...defaultDatabaseLimits, ...options.limits };
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize,
    application_name: options.applicationName ?? 'orderstream',
    connectionTimeoutMillis: limits.acquireTimeoutMs,
    statement_timeout: limits.statementTimeoutMs,
    lock_timeout: limits.lockTimeoutMs,
    idle_in_transaction_session_timeout: limits.idleInTransactionTimeoutMs,
  });
  // An idle client losing its connection (a database restart, an idle-in-transaction timeout) must
  // not crash the process; the pool discards it and the next query opens a fresh one.
  pool.on('error', () => undefined);
  const prepared = (options.preparedStatements ?? true) ? new PreparedStatements() : undefined;
  const guarded = new GuardedPool(pool, options.nestingGuard ?? true, limits.acquireTimeoutMs, prepared);
  const db = new Kysely<object>({ dialect: new PostgresDialect({ pool: guarded }) });
  pools.set(db, guarded);
  return db;
}

const pools = new WeakMap<Database, GuardedPool>();

/** How the connection pool behind `db` is used right now (for metrics and readiness); undefined for a handle not made by `createDatabase`. */
export function poolStats(db: Database): PoolStats | undefined {
  return pools.get(db)?.stats();
}

/**
 * True when the database answers a trivial query within `timeoutMs`. The probe has a connection of
 * its own, outside the pool, so it answers even while every pooled connection is busy: it judges
 * the database, not the queue in front of it (the pool's saturation is reported beside it).
 */
export async function isDatabaseReachable(db: Database, timeoutMs: number): Promise<boolean> {
  const guarded = pools.get(db);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => { resolve(false); }, timeoutMs);
  });
  const probe = (guarded === undefined ? sql`select 1`.execute(db).then(() => undefined) : guarded.probe(timeoutMs)).then(() => true, () => false);
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A connection of its own, outside the pool, with the pool's settings and limits: for one actor that
 * holds a session-level lock for a long time (the outbox relay's leadership), whose connection must
 * never compete with the work it serves. `settings` are PostgreSQL settings of that session only. The
 * caller ends it; an error on it is left to the caller's next statement (it is never unheard).
 */
export async function openDedicatedConnection(db: Database, applicationName: string, settings: Readonly<Record<string, string>> = {}): Promise<pg.Client> {
  const guarded = pools.get(db);
  if (guarded === undefined) throw new Error('a dedicated connection needs a database made by createDatabase');
  return guarded.openClient(applicationName, startupSettings(guarded.options.options, settings));
}

/** Session settings sent when the connection starts (no statement, no round trip), after any the pool's own options carry. */
function startupSettings(poolOptions: string | undefined, settings: Readonly<Record<string, string>>): pg.ClientConfig {
  const given = Object.entries(settings).map(([name, value]) => `-c ${name}=${value}`);
  if (given.length === 0) return {};
  return { options: [poolOptions, ...given].filter((part) => part !== undefined && part !== '').join(' ') };
}

/**
 * The database's readiness: up when the probe (on its own connection) answers within `timeoutMs`,
 * with the pool's saturation beside it: callers waiting for a connection now, the longest wait, and
 * connections in use. A saturated pool is reported, not judged: the process still answers (503 to
 * what it cannot take), and taking every replica out of rotation at once would make it an outage.
 */
export async function databaseReadiness(db: Database, timeoutMs: number): Promise<{ up: boolean; details: Record<string, number> }> {
  const up = await isDatabaseReachable(db, timeoutMs);
  const stats = poolStats(db);
  return {
    up,
    details: stats === undefined ? {} : {
      poolInUse: stats.total - stats.idle, poolMax: stats.max, poolWaiting: stats.waiting, poolOldestWaitMs: stats.oldestWaitMs,
      poolAcquireTimeouts: stats.acquireTimeouts,
    },
  };
}

/**
 * In-process listeners of `db`'s pool: `listener` runs right after each commit of a transaction on
 * that pool that called `notifyInProcessAfterCommit(channel)`. The in-process counterpart of
 * LISTEN, for a listener that lives in the same process as every writer it must hear; returns the
 * unsubscribe.
 */
export function listenInProcess(db: Database, channel: string, listener: () => void): () => void {
  const guarded = pools.get(db);
  if (guarded === undefined) throw new Error('an in-process listener needs a database made by createDatabase');
  return guarded.listenInProcess(channel, listener);
}

