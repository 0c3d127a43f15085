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
  /**
   * Walks the entries in the order they were stored, for eviction. A Map keeps a deleted entry's
   * slot until it next resizes, so a new iterator per eviction would step over every entry evicted
   * before it: in a full cache taking many new keys (an import's stock reports), each eviction
   * cost more than the last. This one carries on where the last eviction stopped; every entry
   * before that point is gone, so the next entry it yields is still the oldest.
   */
  #oldest: MapIterator<Key> | undefined;

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
      // A Map iterates in insertion order (an entry stored again is a new one, at the end), and an
      // iterator goes on to entries added after it was made; once it has ended it stays ended.
      this.#oldest ??= this.#entries.keys();
      let oldest = this.#oldest.next();
      if (oldest.done === true) {
        this.#oldest = this.#entries.keys();
        oldest = this.#oldest.next();
      }
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
  }

  delete(key: Key): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
    this.#oldest = undefined;
  }

  get size(): number {
    return this.#entries.size;
  }
}
