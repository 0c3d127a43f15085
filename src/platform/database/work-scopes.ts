import { AsyncLocalStorage } from 'node:async_hooks';
import { ConnectionBuilder, TransactionBuilder } from 'kysely';

/** What a unit of work needs of the pool whose connection it holds: its in-process listeners. */
export interface ScopedPool {
  hasInProcessListener(channel: string): boolean;
  signalInProcess(channel: string): void;
}

export interface Holding {
  readonly pool: ScopedPool;
  /** Where the connection was taken (formatted only if a nested acquire is refused). */
  readonly site: Error | undefined;
  released: boolean;
}

/** The unit of work (a transaction or a reserved connection) the current async context runs in. */
export interface WorkScope {
  readonly parent: WorkScope | undefined;
  holding: Holding | undefined;
  /** Channels to signal in-process once the unit of work ends well (a transaction: once it committed). */
  signals: Set<string> | undefined;
}

export const scopes = new AsyncLocalStorage<WorkScope>();
let scopesInstalled = false;

/**
 * Makes every `transaction().execute(...)` and `connection().execute(...)` run in a scope of its
 * own, so the pool can tell which connection the code asking it already holds, and a commit can
 * signal in-process listeners (`notifyInProcessAfterCommit`). Kysely builds these
 * builders for every handle (withSchema, $extendTables, a transaction's own), so the scope is set
 * where all of them meet.
 */
export function installWorkScopes(): void {
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
function poolOf(scope: WorkScope): ScopedPool | undefined {
  for (let current: WorkScope | undefined = scope; current !== undefined; current = current.parent) {
    if (current.holding !== undefined) return current.holding.pool;
  }
  return undefined;
}
