import pg from 'pg';
import { DatabaseBusyError, NestedConnectionError } from './database-errors.ts';
import type { PreparedStatements } from './prepared-statements.ts';
import { installWorkScopes, scopes, type Holding, type WorkScope } from './work-scopes.ts';

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

/** pg's pool as Kysely's dialect sees it, bounding and watching every acquire. */
export class GuardedPool {
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
  readonly #prepared: PreparedStatements | undefined;

  /** `prepared`: the statements this pool's connections keep prepared; undefined prepares none. */
  constructor(pool: pg.Pool, guard: boolean, acquireTimeoutMs: number, prepared?: PreparedStatements) {
    this.#pool = pool;
    this.#guard = guard;
    this.#acquireTimeoutMs = acquireTimeoutMs;
    this.#prepared = prepared;
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
        this.#prepared?.prepareOn(client);
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
    this.#prepared?.prepareOn(client);
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
