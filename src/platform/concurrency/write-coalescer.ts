interface Waiting<Item, Result> {
  item: Item;
  resolve: (result: Result) => void;
  reject: (error: unknown) => void;
}

/**
 * Writes that arrive while one is being written go together in the next write: group commit for
 * work that finishes close together (a worker's calls, sent at once) and would otherwise cost a
 * transaction each. Items are written in arrival order, at most one per `keyOf` in a write (a second
 * one with the same key waits for the next), and a write of several that fails is done again item by
 * item with `alone`, so only an item that fails alone fails.
 *
 * @example
 * const settlements = new WriteCoalescer({ keyOf: (s) => s.orderId, together: settleMany, alone: settleOne });
 * const result = await settlements.write(settlement);
 */
export class WriteCoalescer<Item, Result> {
  readonly #keyOf: (item: Item) => string;
  readonly #together: (items: readonly Item[]) => Promise<readonly Result[]>;
  readonly #alone: (item: Item) => Promise<Result>;
  #waiting: Waiting<Item, Result>[] = [];
  #writing = false;
  readonly #counts = { writes: 0, items: 0 };

  constructor(options: {
    keyOf: (item: Item) => string;
    /** Writes several items in one transaction; answers each one's result, in order. */
    together: (items: readonly Item[]) => Promise<readonly Result[]>;
    /** Writes one item in a transaction of its own. */
    alone: (item: Item) => Promise<Result>;
  }) {
    this.#keyOf = options.keyOf;
    this.#together = options.together;
    this.#alone = options.alone;
  }

  /** Resolves with the item's result once the write that took it committed. */
  write(item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject });
      if (!this.#writing) void this.#writeWaiting();
    });
  }

  /** Writes committed and the items they wrote (for tests and diagnosis). */
  counts(): { writes: number; items: number } {
    return { ...this.#counts };
  }

  async #writeWaiting(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#waiting.length > 0) {
        const keys = new Set<string>();
        const batch: Waiting<Item, Result>[] = [];
        const later: Waiting<Item, Result>[] = [];
        for (const waiting of this.#waiting) {
          const key = this.#keyOf(waiting.item);
          if (keys.has(key)) later.push(waiting);
          else {
            keys.add(key);
            batch.push(waiting);
          }
        }
        this.#waiting = later;
        await this.#writeBatch(batch);
      }
    } finally {
      this.#writing = false;
    }
  }

  async #writeBatch(batch: readonly Waiting<Item, Result>[]): Promise<void> {
    if (batch.length > 1) {
      let results: readonly Result[] | undefined;
      try {
        results = await this.#together(batch.map((waiting) => waiting.item));
      } catch {
        // Written again one by one below.
      }
      if (results?.length === batch.length) {
        this.#counts.writes += 1;
        this.#counts.items += batch.length;
        batch.forEach((waiting, index) => { waiting.resolve(results[index] as Result); });
        return;
      }
    }
    for (const waiting of batch) {
      try {
        const result = await this.#alone(waiting.item);
        this.#counts.writes += 1;
        this.#counts.items += 1;
        waiting.resolve(result);
      } catch (error) {
        waiting.reject(error);
      }
    }
  }
}
