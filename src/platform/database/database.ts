import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import { overloadOf, OverloadedError } from '../concurrency/overloaded.ts';
import { ConnectionBuilder, Kysely, PostgresDialect, TransactionBuilder, sql } from 'kysely';

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

/**
 * No pooled connection became free within the acquire timeout (or a new one could not be opened in
 * time). The work is refused instead of queued without end: HTTP answers 503 with Retry-After, and
 * messaging leaves the message to be delivered again without counting an attempt.
 */
export class DatabaseBusyError extends OverloadedError {
  readonly code = 'DATABASE_BUSY';

  constructor(waitedMs: number, cause: unknown) {
    super('database connections', `no database connection became free within ${String(Math.round(waitedMs))} ms`, { cause });
    this.name = 'DatabaseBusyError';
  }
}

/** True for a `DatabaseBusyError`, also one that crossed a module boundary wrapped as a cause. */
export function isDatabaseBusy(error: unknown): error is DatabaseBusyError {
  return overloadOf(error) instanceof DatabaseBusyError;
}

/**
 * A unit of work that already holds a connection of this pool asked it for another one. With as
 * many such units at once as the pool has connections, every one waits for a connection that only
 * another waiting one could give back: the process wedges. The guard refuses the second request
 * at once, with the stacks of both.
 */
export class NestedConnectionError extends Error {
  constructor(heldAt: string | undefined, askedAt: string | undefined) {
    super(
      'a unit of work asked the database pool for a second connection while holding one (use the transaction it was given)\n'
      + `-- the connection it holds was taken at:\n${trimStack(heldAt)}\n-- the second one was asked for at:\n${trimStack(askedAt)}`,
    );
    this.name = 'NestedConnectionError';
  }
}

/** Opens a pooled connection to PostgreSQL, with every wait bounded (`limits`) and, when `nestingGuard` is on, nested acquires refused. */
export function createDatabase(options: {
  url: string;
  poolSize: number;
  applicationName?: string;
  limits?: Partial<DatabaseLimits>;
  /** Refuse a second connection to a unit of work that holds one (default on; DATABASE_NESTING_GUARD). */
  nestingGuard?: boolean;
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
  const guarded = new GuardedPool(pool, options.nestingGuard ?? true, limits.acquireTimeoutMs);
  const db = new Kysely<object>({ dialect: new PostgresDialect({ pool: guarded }) });
  pools.set(db, guarded);
  return db;
}

const pools = new WeakMap<Database, GuardedPool>();

/** How the connection pool behind `db` is used right now. */
export interface PoolStats {
  total: number;
  idle: number;
  max: number;
  /** Callers waiting for a connection now. */
  waiting: number;
  /** How long the longest-waiting caller has waited (0 when none waits). */
  oldestWaitMs: number;
  /** Connections handed out since start, and the seconds callers spent waiting for them. */
  acquired: number;
  acquireWaitSeconds: number;
  /** Callers refused with `DatabaseBusyError` since start. */
  acquireTimeouts: number;
}

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
 * never compete with the work it serves. The caller ends it; an error on it is left to the caller's
 * next statement (it is never unheard).
 */
export async function openDedicatedConnection(db: Database, applicationName: string): Promise<pg.Client> {
  const guarded = pools.get(db);
  if (guarded === undefined) throw new Error('a dedicated connection needs a database made by createDatabase');
  return guarded.openClient(applicationName);
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

interface Holding {
  readonly pool: GuardedPool;
  /** Where the connection was taken (formatted only if a nested acquire is refused). */
  readonly site: Error | undefined;
  released: boolean;
}

/** The unit of work (a transaction or a reserved connection) the current async context runs in. */
interface WorkScope {
  readonly parent: WorkScope | undefined;
  holding: Holding | undefined;
  /** Channels to signal in-process once the unit of work ends well (a transaction: once it committed). */
  signals: Set<string> | undefined;
}

const scopes = new AsyncLocalStorage<WorkScope>();
let scopesInstalled = false;

/**
 * Makes every `transaction().execute(...)` and `connection().execute(...)` run in a scope of its
 * own, so the pool can tell which connection the code asking it already holds, and a commit can
 * signal in-process listeners (`notifyInProcessAfterCommit`). Kysely builds these
 * builders for every handle (withSchema, $extendTables, a transaction's own), so the scope is set
 * where all of them meet.
 */
function installWorkScopes(): void {
  if (scopesInstalled) return;
  scopesInstalled = true;
  for (const builder of [TransactionBuilder.prototype, ConnectionBuilder.prototype] as { execute: (...args: unknown[]) => Promise<unknown> }[]) {
    const execute = builder.execute;
    builder.execute = async function scopedExecute(this: unknown, ...args: unknown[]) {
      const scope: WorkScope = { parent: scopes.getStore(), holding: undefined, signals: undefined };
      // Resolved means committed (Kysely commits before it resolves, and rejects after a rollback).
      const result = await scopes.run(scope, () => execute.apply(this, args));
      if (scope.signals !== undefined) signalCommitted(scope);
      return result;
    };
  }
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

/**
 * The in-process counterpart of a transactional NOTIFY, without its statement or PostgreSQL's
 * global commit lock: signals `channel`'s in-process listeners right after the caller's unit of
 * work commits, never after a rollback. False, signalling nothing, when the caller runs in no unit
 * of work of a `createDatabase` pool or that pool has no listener on `channel` (the caller then
 * notifies through PostgreSQL).
 */
export function notifyInProcessAfterCommit(channel: string): boolean {
  const scope = scopes.getStore();
  if (scope === undefined) return false;
  const pool = poolOf(scope);
  if (pool?.hasInProcessListener(channel) !== true) return false;
  scope.signals ??= new Set();
  scope.signals.add(channel);
  return true;
}

function signalCommitted(scope: WorkScope): void {
  const pool = poolOf(scope);
  for (const channel of scope.signals ?? []) pool?.signalInProcess(channel);
}

/** The pool whose connection a unit of work runs on (a transaction inside a reserved connection: the connection's). */
function poolOf(scope: WorkScope): GuardedPool | undefined {
  for (let current: WorkScope | undefined = scope; current !== undefined; current = current.parent) {
    if (current.holding !== undefined) return current.holding.pool;
  }
  return undefined;
}

/** pg's pool as Kysely's dialect sees it, bounding and watching every acquire. */
class GuardedPool {
  readonly #pool: pg.Pool;
  readonly #guard: boolean;
  readonly #acquireTimeoutMs: number;
  readonly #holdings = new WeakMap<pg.PoolClient, Holding>();
  readonly #listened = new WeakSet<pg.PoolClient>();
  readonly #waitingSince = new Set<{ at: number }>();
  #acquired = 0;
  #acquireWaitMs = 0;
  #acquireTimeouts = 0;
  #probeClient: Promise<pg.Client> | undefined;
  readonly #inProcessListeners = new Map<string, Set<() => void>>();

  constructor(pool: pg.Pool, guard: boolean, acquireTimeoutMs: number) {
    this.#pool = pool;
    this.#guard = guard;
    this.#acquireTimeoutMs = acquireTimeoutMs;
    installWorkScopes();
    pool.on('release', (_error: Error | undefined, client: pg.PoolClient) => {
      const holding = this.#holdings.get(client);
      if (holding === undefined) return;
      holding.released = true;
      this.#holdings.delete(client);
    });
  }

  // Kysely's driver reads these to cancel a running query through a control connection.
  get options(): pg.PoolConfig { return this.#pool.options; }
  get Client(): typeof pg.Client { return pg.Client; }

  async connect(): Promise<pg.PoolClient> {
    const scope = scopes.getStore();
    let holding: Holding | undefined;
    if (scope !== undefined) {
      if (this.#guard) {
        for (let current: WorkScope | undefined = scope; current !== undefined; current = current.parent) {
          const held = current.holding;
          if (held !== undefined && !held.released && held.pool === this) {
            const error = new NestedConnectionError(held.site?.stack, new Error('asked here').stack);
            // Also on stderr: code that catches and retries (a background loop) must not hide the bug.
            process.emitWarning(error);
            throw error;
          }
        }
      }
      // The first connection a scope takes is the one its transaction runs on.
      if (scope.holding === undefined) {
        holding = { pool: this, site: this.#guard ? new Error('held here') : undefined, released: false };
        scope.holding = holding;
      }
    }
    const waiting = { at: performance.now() };
    this.#waitingSince.add(waiting);
    try {
      const client = await this.#pool.connect();
      this.#acquired += 1;
      // PostgreSQL may end a session while it is lent out (idle in a transaction past the timeout, a
      // restart): the error is emitted on the client, and unheard it would end the process. The work
      // using it fails on its next statement, and the pool drops the broken client when it comes back.
      if (!this.#listened.has(client)) {
        this.#listened.add(client);
        client.on('error', () => undefined);
      }
      if (holding !== undefined) this.#holdings.set(client, holding);
      return client;
    } catch (error) {
      if (holding !== undefined) holding.released = true;
      if (isAcquireTimeout(error)) {
        this.#acquireTimeouts += 1;
        throw new DatabaseBusyError(performance.now() - waiting.at, error);
      }
      throw error;
    } finally {
      this.#waitingSince.delete(waiting);
      this.#acquireWaitMs += performance.now() - waiting.at;
    }
  }

  async end(): Promise<void> {
    const probe = this.#probeClient;
    this.#probeClient = undefined;
    if (probe !== undefined) await probe.then((client) => client.end(), () => undefined);
    await this.#pool.end();
  }

  stats(): PoolStats {
    const now = performance.now();
    let oldest = 0;
    for (const waiting of this.#waitingSince) oldest = Math.max(oldest, now - waiting.at);
    return {
      total: this.#pool.totalCount,
      idle: this.#pool.idleCount,
      max: this.#pool.options.max,
      waiting: this.#waitingSince.size,
      oldestWaitMs: Math.round(oldest),
      acquired: this.#acquired,
      acquireWaitSeconds: this.#acquireWaitMs / 1000,
      acquireTimeouts: this.#acquireTimeouts,
    };
  }

  listenInProcess(channel: string, listener: () => void): () => void {
    let listeners = this.#inProcessListeners.get(channel);
    if (listeners === undefined) {
      listeners = new Set();
      this.#inProcessListeners.set(channel, listeners);
    }
    // A fresh function per subscription, so subscribing one listener twice needs two unsubscribes.
    const entry = (): void => { listener(); };
    listeners.add(entry);
    return () => {
      listeners.delete(entry);
      if (listeners.size === 0 && this.#inProcessListeners.get(channel) === listeners) this.#inProcessListeners.delete(channel);
    };
  }

  hasInProcessListener(channel: string): boolean {
    return (this.#inProcessListeners.get(channel)?.size ?? 0) > 0;
  }

  signalInProcess(channel: string): void {
    for (const listener of this.#inProcessListeners.get(channel) ?? []) {
      try {
        listener();
      } catch {
        // The commit has happened: a failing listener must not turn it into an error for the writer.
      }
    }
  }

  /** `select 1` on a connection kept for probes alone (opened on first use, reopened after a failure). */
  async probe(timeoutMs: number): Promise<void> {
    this.#probeClient ??= this.#openProbe(timeoutMs);
    const opening = this.#probeClient;
    try {
      const client = await opening;
      await client.query('select 1');
    } catch (error) {
      if (this.#probeClient === opening) this.#probeClient = undefined;
      await opening.then((client) => client.end(), () => undefined);
      throw error;
    }
  }

  /** A new connection with the pool's settings (`overrides` win), outside the pool. */
  async openClient(applicationName: string, overrides: pg.ClientConfig = {}): Promise<pg.Client> {
    const client = new pg.Client({ ...this.#pool.options, application_name: applicationName, ...overrides });
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    return client;
  }

  #openProbe(timeoutMs: number): Promise<pg.Client> {
    return this.openClient(`${this.#pool.options.application_name ?? 'orderstream'}-probe`, {
      connectionTimeoutMillis: Math.min(timeoutMs, this.#acquireTimeoutMs), statement_timeout: timeoutMs,
    });
  }
}

function isAcquireTimeout(error: unknown): boolean {
  return error instanceof Error && /timeout exceeded when trying to connect|connection timeout/i.test(error.message);
}

function trimStack(stack: string | undefined): string {
  if (stack === undefined) return '  (no stack)';
  return stack.split('\n').slice(1).filter((line) => !line.includes('node_modules/kysely/') && !line.includes('node:internal')).slice(0, 14).join('\n');
}
