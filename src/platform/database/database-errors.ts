import { overloadOf, OverloadedError } from '../concurrency/overloaded.ts';

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

function trimStack(stack: string | undefined): string {
  if (stack === undefined) return '  (no stack)';
  return stack.split('\n').slice(1).filter((line) => !line.includes('node_modules/kysely/') && !line.includes('node:internal')).slice(0, 14).join('\n');
}
