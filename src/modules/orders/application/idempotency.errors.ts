/** The key was used before with a different request body. */
export class IdempotencyKeyReusedError extends Error {
  constructor(key: string) {
    super(`Idempotency-Key ${key} was already used with a different request`);
    this.name = 'IdempotencyKeyReusedError';
  }
}

/** A request with this key is still being processed. */
export class IdempotencyKeyInUseError extends Error {
  constructor(key: string) {
    super(`A request with Idempotency-Key ${key} is in progress; retry later`);
    this.name = 'IdempotencyKeyInUseError';
  }
}
