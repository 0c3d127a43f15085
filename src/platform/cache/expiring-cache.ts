/**
 * A bounded in-memory map whose entries expire: when it is full, the entry stored first makes
 * room. For values that are costly to compute and safe to reuse until a known time (a verified
 * token until its expiry, a product for a few seconds). Reads do not reorder entries: every entry
 * lives briefly anyway, and a read then costs one lookup (keys such as tokens are long strings).
 */
export class ExpiringCache<Key, Value> {
  readonly #entries = new Map<Key, { value: Value; expiresAt: number }>();
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(options: { maxEntries: number; now?: () => number }) {
    if (!Number.isInteger(options.maxEntries) || options.maxEntries < 1) throw new RangeError(`maxEntries must be a whole number >= 1, got ${options.maxEntries}`);
    this.#maxEntries = options.maxEntries;
    this.#now = options.now ?? Date.now;
  }

  /** The value stored under `key`, unless it has expired (then it is dropped). */
  get(key: Key): Value | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > this.#now()) return entry.value;
    this.#entries.delete(key);
    return undefined;
  }

  /** Stores `value` until `expiresAt` (ms since the epoch); an already expired value is not stored. */
  set(key: Key, value: Value, expiresAt: number): void {
    this.#entries.delete(key);
    if (expiresAt <= this.#now()) return;
    this.#entries.set(key, { value, expiresAt });
    if (this.#entries.size > this.#maxEntries) {
      // A Map iterates in insertion order: its first key was stored first.
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
  }

  delete(key: Key): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }
}
