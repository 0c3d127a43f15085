/**
 * Work refused because a bounded resource (the database pool, the password hashers, the renderers)
 * stayed full: the process is at capacity, not broken. HTTP answers 503 problem+json with
 * `Retry-After`; background work leaves the item to be tried again without counting an attempt.
 */
export class OverloadedError extends Error {
  /** A hint for the caller: try again after this many seconds. */
  readonly retryAfterSeconds: number;
  /** What was full, for logs and the problem's detail (`database connections`, `password hashing`). */
  readonly resource: string;

  constructor(resource: string, message: string, options: { retryAfterSeconds?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OverloadedError';
    this.resource = resource;
    this.retryAfterSeconds = options.retryAfterSeconds ?? 1;
  }
}

/** The `OverloadedError` behind `error`, also one wrapped as a cause (a module boundary, a transaction); undefined when none. */
export function overloadOf(error: unknown): OverloadedError | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth += 1) {
    if (current instanceof OverloadedError) return current;
  }
  return undefined;
}
