/** What the replay cache says about a nonce: first seen (now remembered), seen before, or no room to remember it. */
export type NonceVerdict = { kind: 'fresh' } | { kind: 'replayed' } | { kind: 'full'; retryAfterSeconds: number };

/**
 * The nonces of the gateway statements a service accepted, each remembered until its statement
 * would be refused as stale anyway, so a captured statement is good for one request only. Memory
 * is bounded by `maxEntries`: when full, a new nonce is refused (the caller answers 503 with
 * Retry-After) rather than an unexpired one forgotten, since forgetting would reopen the replay.
 * Nonces are grouped by the second they expire in, so forgetting the expired ones is dropping
 * whole groups.
 */
export class ReplayCache {
  readonly maxEntries: number;
  readonly #byExpirySecond = new Map<number, Set<string>>();
  #size = 0;

  constructor(options: { maxEntries: number }) {
    if (!Number.isInteger(options.maxEntries) || options.maxEntries < 1) throw new Error('a replay cache holds at least one nonce');
    this.maxEntries = options.maxEntries;
  }

  /** Nonces remembered now (expired ones are dropped on the next `remember`). */
  get size(): number {
    return this.#size;
  }

  /**
   * Remembers `nonce` until `expiresAtMs`, unless it is remembered already (a replay) or the cache
   * is full. The same statement always carries the same expiry, so a replay finds its nonce in
   * the group it was first put in.
   */
  remember(nonce: string, expiresAtMs: number, nowMs: number = Date.now()): NonceVerdict {
    this.#forgetExpired(nowMs);
    const second = Math.ceil(expiresAtMs / 1000);
    const group = this.#byExpirySecond.get(second);
    if (group?.has(nonce) === true) return { kind: 'replayed' };
    if (this.#size >= this.maxEntries) return { kind: 'full', retryAfterSeconds: this.#secondsUntilRoom(nowMs) };
    if (group === undefined) this.#byExpirySecond.set(second, new Set([nonce]));
    else group.add(nonce);
    this.#size += 1;
    return { kind: 'fresh' };
  }

  #forgetExpired(nowMs: number): void {
    for (const [second, group] of this.#byExpirySecond) {
      if (second * 1000 >= nowMs) continue;
      this.#size -= group.size;
      this.#byExpirySecond.delete(second);
    }
  }

  /** When the earliest group expires, freeing room; at least one second. */
  #secondsUntilRoom(nowMs: number): number {
    let earliest = Number.POSITIVE_INFINITY;
    for (const second of this.#byExpirySecond.keys()) earliest = Math.min(earliest, second);
    return Math.max(1, Math.ceil((earliest * 1000 - nowMs) / 1000));
  }
}
